"""The catalogue (公共信用信息目录): read it, seed it, and change it only by new versions."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from typing import Any
from weakref import WeakKeyDictionary

import yaml
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyong.actor import Actor
from xinyong.audit import service as audit
from xinyong.catalogue.models import CatalogueItem, CatalogueItemVersion
from xinyong.catalogue.schemas import ItemSpec
from xinyong.db import utcnow
from xinyong.errors import Conflict, Invalid, NotFound
from xinyong.policy import service as policy


@dataclass(frozen=True)
class Item:
    """An item with the version in force."""

    item: CatalogueItem
    version: CatalogueItemVersion

    @property
    def code(self) -> str:
        return self.item.code

    @property
    def field_labels(self) -> dict[str, str]:
        return {f["name"]: f["label"] for f in self.version.fields}


def _spec_problem(message: str, field: str | None = None) -> Invalid:
    return Invalid("CATALOGUE_SPEC_INVALID", message, field=field)


def check_spec(spec: ItemSpec) -> None:
    """Rules a catalogue item must satisfy beyond its field types."""
    names = [f.name for f in spec.fields]
    if len(names) != len(set(names)):
        raise _spec_problem("字段代码不得重复", "fields")
    for f in spec.fields:
        if f.type == "enum" and not f.enum:
            raise _spec_problem(f"枚举字段“{f.label}”必须列出取值", "fields")
    if sum(f.decision_date for f in spec.fields) > 1:
        raise _spec_problem("只能有一个字段作为决定日期", "fields")
    if any(f.decision_date and f.type != "date" for f in spec.fields):
        raise _spec_problem("作为决定日期的字段必须是日期类型", "fields")
    missing = [k for k in spec.natural_key if k not in names]
    if missing:
        raise _spec_problem(f"业务主键字段不存在：{'、'.join(missing)}", "natural_key")
    if spec.credit_nature == "失信" and spec.severity is None:
        raise _spec_problem("失信信息必须标明失信程度（轻微/一般/严重）", "severity")
    if spec.credit_nature != "失信" and spec.severity is not None:
        raise _spec_problem("只有失信信息才有失信程度", "severity")
    low, high = spec.min_publication_months, spec.max_publication_months
    if low is not None and high is not None and low > high:
        raise _spec_problem("最短公示期不得长于最长公示期", "min_publication_months")
    if spec.evaluation_usable and (spec.personal_data or any(f.personal for f in spec.fields)):
        raise _spec_problem("含个人隐私信息的信息项不得用于信用评价", "evaluation_usable")
    if spec.cross_border == "可出境" and (spec.personal_data or any(f.personal for f in spec.fields)):
        raise _spec_problem("含个人信息的信息项不得标为“可出境”，请选择“需出境评估”或“不得出境”", "cross_border")


def _with_default_periods(session: Session, spec: ItemSpec) -> ItemSpec:
    if spec.severity is None or spec.max_publication_months is not None:
        return spec
    period = policy.get(session, "publication_periods")[spec.severity]
    return spec.model_copy(update={"min_publication_months": period["min_months"],
                                   "max_publication_months": period["max_months"]})


def _version_from(spec: ItemSpec, item: CatalogueItem, number: int, actor: Actor, note: str) -> CatalogueItemVersion:
    return CatalogueItemVersion(
        item_id=item.id, version=number, name=spec.name, description=spec.description,
        providing_departments=spec.providing_departments,
        fields=[f.model_dump(exclude_none=True) for f in spec.fields], natural_key=spec.natural_key,
        legal_basis_document=spec.legal_basis.document, legal_basis_article=spec.legal_basis.article,
        legal_basis_level=spec.legal_basis.level, sharing_class=spec.sharing_class,
        disclosure_class=spec.disclosure_class, credit_nature=spec.credit_nature, severity=spec.severity,
        min_publication_months=spec.min_publication_months, max_publication_months=spec.max_publication_months,
        evaluation_usable=spec.evaluation_usable and not spec.personal_data,
        publish_person_name=spec.publish_person_name, change_note=note, cross_border=spec.cross_border,
        created_at=utcnow(), created_by=actor.username,
    )


def spec_of(entry: Item) -> ItemSpec:
    v = entry.version
    return ItemSpec(
        code=entry.item.code, category=entry.item.category, name=v.name, description=v.description,
        providing_departments=v.providing_departments, fields=v.fields, natural_key=v.natural_key,
        legal_basis={"document": v.legal_basis_document, "article": v.legal_basis_article,
                     "level": v.legal_basis_level},
        sharing_class=v.sharing_class, disclosure_class=v.disclosure_class, credit_nature=v.credit_nature,
        severity=v.severity, min_publication_months=v.min_publication_months,
        max_publication_months=v.max_publication_months, evaluation_usable=v.evaluation_usable,
        personal_data=any(f.get("personal") for f in v.fields), publish_person_name=v.publish_person_name,
        cross_border=v.cross_border,
    )


def create_item(session: Session, actor: Actor, spec: ItemSpec) -> Item:
    check_spec(spec)
    if session.scalar(select(CatalogueItem.id).where(CatalogueItem.code == spec.code)) is not None:
        raise Conflict("CATALOGUE_ITEM_EXISTS", f"目录信息项代码“{spec.code}”已存在", field="code")
    spec = _with_default_periods(session, spec)
    item = CatalogueItem(code=spec.code, category=spec.category, current_version=1, created_at=utcnow())
    session.add(item)
    session.flush()
    version = _version_from(spec, item, 1, actor, "初始版本")
    session.add(version)
    session.flush()
    audit.append(session, actor, "catalogue.create", object_type="catalogue_item", object_id=spec.code,
                 detail={"version": 1, "spec": spec.model_dump(mode="json")})
    return Item(item, version)


def revise_item(session: Session, actor: Actor, code: str, spec: ItemSpec, note: str) -> Item:
    """Changing an item makes a new version; records keep the version they were accepted under."""
    current = get_item(session, code)
    if spec.code != code:
        raise _spec_problem("信息项代码不可修改", "code")
    if not note.strip():
        raise Invalid("CATALOGUE_NOTE_REQUIRED", "请说明本次修订的理由", field="note")
    check_spec(spec)
    spec = _with_default_periods(session, spec)
    if spec == spec_of(current):
        raise Invalid("CATALOGUE_UNCHANGED", "内容没有变化，未生成新版本")
    number = current.item.current_version + 1
    version = _version_from(spec, current.item, number, actor, note.strip())
    session.add(version)
    current.item.current_version = number
    current.item.category = spec.category
    session.flush()
    audit.append(session, actor, "catalogue.revise", object_type="catalogue_item", object_id=code,
                 detail={"version": number, "note": note.strip(), "spec": spec.model_dump(mode="json")})
    return Item(current.item, version)


def get_item(session: Session, code: str) -> Item:
    item = session.scalar(select(CatalogueItem).where(CatalogueItem.code == code))
    if item is None:
        raise NotFound("CATALOGUE_ITEM_UNKNOWN", f"目录中没有信息项“{code}”", field="item")
    version = session.scalar(select(CatalogueItemVersion).where(
        CatalogueItemVersion.item_id == item.id, CatalogueItemVersion.version == item.current_version))
    assert version is not None
    return Item(item, version)


def get_version(session: Session, version_id: int) -> CatalogueItemVersion:
    version = session.get(CatalogueItemVersion, version_id)
    if version is None:
        raise NotFound("CATALOGUE_VERSION_UNKNOWN", f"目录版本不存在：{version_id}")
    return version


@dataclass(frozen=True)
class VersionSnapshot:
    """A version's content as plain values, for hot read paths (public pages): versions never change."""

    id: int
    item_code: str
    category: str
    name: str
    fields: tuple[dict[str, Any], ...]
    disclosure_class: str
    credit_nature: str
    severity: str | None
    min_publication_months: int | None
    max_publication_months: int | None
    publish_person_name: bool


# Per engine (so per database): a version id always names the same content, so entries never go stale.
_snapshots: WeakKeyDictionary[Any, dict[int, VersionSnapshot]] = WeakKeyDictionary()


def version_snapshot(session: Session, version_id: int) -> VersionSnapshot:
    cache = _snapshots.setdefault(session.get_bind(), {})
    if version_id not in cache:
        version = get_version(session, version_id)
        item = session.get(CatalogueItem, version.item_id)
        assert item is not None
        cache[version_id] = VersionSnapshot(
            id=version.id, item_code=item.code, category=item.category, name=version.name,
            fields=tuple(version.fields), disclosure_class=version.disclosure_class,
            credit_nature=version.credit_nature, severity=version.severity,
            min_publication_months=version.min_publication_months,
            max_publication_months=version.max_publication_months, publish_person_name=version.publish_person_name)
    return cache[version_id]


def snapshots_in_force(session: Session) -> list[VersionSnapshot]:
    """The version in force of every item, in catalogue order; one light query when cached."""
    ids = session.scalars(select(CatalogueItemVersion.id).join(
        CatalogueItem, (CatalogueItemVersion.item_id == CatalogueItem.id)
        & (CatalogueItemVersion.version == CatalogueItem.current_version)).order_by(CatalogueItem.id))
    return [version_snapshot(session, version_id) for version_id in ids]


def versions(session: Session, code: str) -> list[CatalogueItemVersion]:
    item = get_item(session, code).item
    return list(session.scalars(select(CatalogueItemVersion).where(CatalogueItemVersion.item_id == item.id)
                                .order_by(CatalogueItemVersion.version.desc())))


def list_items(session: Session) -> list[Item]:
    rows = session.execute(
        select(CatalogueItem, CatalogueItemVersion)
        .join(CatalogueItemVersion, (CatalogueItemVersion.item_id == CatalogueItem.id)
              & (CatalogueItemVersion.version == CatalogueItem.current_version))
        .order_by(CatalogueItem.id)).all()
    return [Item(item, version) for item, version in rows]


def item_names(session: Session) -> dict[str, str]:
    """Item code → name of the version in force (for listings)."""
    return {entry.code: entry.version.name for entry in list_items(session)}


def seed_specs() -> list[dict[str, Any]]:
    text = resources.files("xinyong.seed").joinpath("catalogue.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def seed(session: Session, actor: Actor) -> int:
    """Create the seeded items that do not exist yet."""
    existing = set(session.scalars(select(CatalogueItem.code)))
    added = 0
    for raw in seed_specs():
        if raw["code"] in existing:
            continue
        try:
            spec = ItemSpec.model_validate(raw)
        except ValidationError as error:  # a broken seed file is a programming error
            raise RuntimeError(f"catalogue seed {raw.get('code')}: {error}") from error
        create_item(session, actor, spec)
        added += 1
    return added
