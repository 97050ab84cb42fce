"""The catalogue: everyone reads it; the credit authority edits it (each edit is a new version)."""

from __future__ import annotations

from typing import Any

import yaml
from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel
from sqlalchemy.orm import Session

from xinyong.access.permissions import P
from xinyong.actor import Actor
from xinyong.catalogue import service
from xinyong.catalogue.schemas import FIELD_TYPE_LABELS, ItemSpec
from xinyong.errors import DomainError, Invalid
from xinyong.policy import service as policy
from xinyong.web.deps import get_db, require
from xinyong.web.forms import parse_form
from xinyong.web.templating import render

router = APIRouter(tags=["信用目录"])


class ItemOut(ItemSpec):
    version: int


class RevisionIn(BaseModel):
    spec: ItemSpec
    note: str


def _out(entry: service.Item) -> ItemOut:
    return ItemOut(**service.spec_of(entry).model_dump(), version=entry.version.version)


@router.get("/api/v1/catalogue/items", summary="目录信息项列表", dependencies=[Depends(require(P.PUBLIC))])
def list_items(session: Session = Depends(get_db)) -> list[ItemOut]:
    return [_out(entry) for entry in service.list_items(session)]


@router.get("/api/v1/catalogue/items/{code}", summary="目录信息项（现行版本）", dependencies=[Depends(require(P.PUBLIC))])
def get_item(code: str, session: Session = Depends(get_db)) -> ItemOut:
    return _out(service.get_item(session, code))


@router.post("/api/v1/catalogue/items", summary="新增目录信息项", status_code=201)
def create_item(spec: ItemSpec, actor: Actor = Depends(require(P.CATALOGUE_EDIT)),
                session: Session = Depends(get_db)) -> ItemOut:
    return _out(service.create_item(session, actor, spec))


@router.put("/api/v1/catalogue/items/{code}", summary="修订目录信息项（生成新版本）")
def revise_item(code: str, body: RevisionIn, actor: Actor = Depends(require(P.CATALOGUE_EDIT)),
                session: Session = Depends(get_db)) -> ItemOut:
    return _out(service.revise_item(session, actor, code, body.spec, body.note))


# --- pages ----------------------------------------------------------------------------------------

@router.get("/catalogue", include_in_schema=False, dependencies=[Depends(require(P.PUBLIC))])
def catalogue_page(request: Request, session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    items = service.list_items(session)
    categories: dict[str, list[service.Item]] = {}
    for entry in items:
        categories.setdefault(entry.item.category, []).append(entry)
    return render(request, "catalogue_list.html", title="公共信用信息目录", categories=categories)


@router.get("/catalogue/new", include_in_schema=False)
def new_item_form(request: Request, actor: Actor = Depends(require(P.CATALOGUE_EDIT)),
                  session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    return _edit_view(request, session, None, form={"fields_yaml": "- {name: XXX, label: 字段名称, type: string, required: true}\n"})


@router.get("/catalogue/{code}", include_in_schema=False, dependencies=[Depends(require(P.PUBLIC))])
def item_page(code: str, request: Request, session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    entry = service.get_item(session, code)
    return render(request, "catalogue_item.html", title=entry.version.name, entry=entry,
                  versions=service.versions(session, code), type_labels=FIELD_TYPE_LABELS)


@router.get("/catalogue/{code}/edit", include_in_schema=False)
def edit_item_form(code: str, request: Request, actor: Actor = Depends(require(P.CATALOGUE_EDIT)),
                   session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    spec = service.spec_of(service.get_item(session, code))
    return _edit_view(request, session, code, form=_form_from_spec(spec))


def _form_from_spec(spec: ItemSpec) -> dict[str, Any]:
    data = spec.model_dump(mode="json")
    fields = [{k: v for k, v in f.items() if v not in (None, False, [])} for f in data.pop("fields")]
    data.update(fields_yaml=yaml.safe_dump(fields, allow_unicode=True, sort_keys=False, default_flow_style=None),
                legal_basis_document=spec.legal_basis.document, legal_basis_article=spec.legal_basis.article,
                legal_basis_level=spec.legal_basis.level,
                providing_departments="、".join(spec.providing_departments), natural_key=",".join(spec.natural_key))
    return data


def _spec_from_form(form: dict[str, Any]) -> ItemSpec:
    try:
        fields = yaml.safe_load(form.get("fields_yaml") or "") or []
    except yaml.YAMLError as error:
        raise Invalid("CATALOGUE_FIELDS_YAML", f"字段定义不是有效的YAML：{error}", field="fields_yaml") from None
    split = lambda text, seps: [p.strip() for p in text.replace(seps[0], seps[1]).split(seps[1]) if p.strip()]  # noqa: E731
    data = {
        "code": form.get("code", "").strip(), "category": form.get("category", "").strip(),
        "name": form.get("name", "").strip(), "description": form.get("description", "").strip(),
        "providing_departments": split(form.get("providing_departments", ""), ("，", "、")),
        "fields": fields, "natural_key": split(form.get("natural_key", ""), ("，", ",")),
        "legal_basis": {"document": form.get("legal_basis_document", ""), "article": form.get("legal_basis_article", ""),
                        "level": form.get("legal_basis_level", "")},
        "sharing_class": form.get("sharing_class"), "disclosure_class": form.get("disclosure_class"),
        "credit_nature": form.get("credit_nature"), "severity": form.get("severity") or None,
        "min_publication_months": form.get("min_publication_months") or None,
        "max_publication_months": form.get("max_publication_months") or None,
        "evaluation_usable": form.get("evaluation_usable") == "on", "personal_data": form.get("personal_data") == "on",
        "publish_person_name": form.get("publish_person_name") == "on",
        "cross_border": form.get("cross_border") or "需出境评估",
    }
    return parse_form(ItemSpec, data, "CATALOGUE_SPEC_INVALID")


def _edit_view(request: Request, session: Session, code: str | None, form: dict[str, Any],
               error: DomainError | None = None, status_code: int = 200):  # type: ignore[no-untyped-def]
    return render(request, "catalogue_edit.html", status_code=status_code, title="编辑目录信息项" if code else "新增目录信息项",
                  code=code, form=form, error=error,
                  levels=policy.get(session, "legal_basis_levels")["order"])


@router.post("/catalogue/new", include_in_schema=False)
async def create_item_page(request: Request, actor: Actor = Depends(require(P.CATALOGUE_EDIT)),
                           session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    form = dict(await request.form())
    try:
        entry = service.create_item(session, actor, _spec_from_form(form))
    except DomainError as error:
        session.rollback()
        return _edit_view(request, session, None, form, error, status_code=error.status)
    return render(request, "catalogue_item.html", title=entry.version.name, entry=entry, flash="已新增信息项",
                  versions=service.versions(session, entry.code), type_labels=FIELD_TYPE_LABELS)


@router.post("/catalogue/{code}/edit", include_in_schema=False)
async def revise_item_page(code: str, request: Request, actor: Actor = Depends(require(P.CATALOGUE_EDIT)),
                           session: Session = Depends(get_db)):  # type: ignore[no-untyped-def]
    form = dict(await request.form())
    form["code"] = code
    try:
        entry = service.revise_item(session, actor, code, _spec_from_form(form), str(form.get("note", "")))
    except DomainError as error:
        session.rollback()
        return _edit_view(request, session, code, form, error, status_code=error.status)
    return render(request, "catalogue_item.html", title=entry.version.name, entry=entry,
                  flash=f"已生成第{entry.version.version}版", versions=service.versions(session, code),
                  type_labels=FIELD_TYPE_LABELS)
