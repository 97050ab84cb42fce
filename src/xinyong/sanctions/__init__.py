"""Rewards and punishments (守信激励、失信惩戒): lists, the measure list, joint checks and feedback."""
