"""Credit reports (信用报告) and special reports (专项信用报告): signed PDFs anyone can verify offline."""
