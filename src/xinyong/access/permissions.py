"""Roles and the one declared permission matrix (权限矩阵).

Every route declares one permission; ``ROLE_PERMISSIONS`` says which roles hold it. A test
walks every route against every role and this table, so an undeclared route fails the build.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    AUTHORITY_ADMIN = "authority_admin"
    DEPARTMENT_SUBMITTER = "department_submitter"
    APPLYING_DEPARTMENT = "applying_department"
    SUBJECT_USER = "subject_user"
    AUTHORISED_INSTITUTION = "authorised_institution"
    AUDITOR = "auditor"
    PEER_PLATFORM = "peer_platform"


ROLE_LABELS = {
    "authority_admin": "信用主管部门",
    "department_submitter": "数据提供部门",
    "applying_department": "应用部门",
    "subject_user": "信用主体",
    "authorised_institution": "授权机构",
    "auditor": "安全审计员",
    "peer_platform": "上级平台",
    "public": "社会公众",
    "system": "系统",
}


class P(StrEnum):
    """Permissions. ``PUBLIC`` needs nothing; ``SIGNED_IN`` needs any login."""

    PUBLIC = "public"
    SIGNED_IN = "signed_in"
    CATALOGUE_EDIT = "catalogue:edit"
    POLICY_EDIT = "policy:edit"
    SUBJECTS_READ = "subjects:read"
    SUBJECTS_REGISTER = "subjects:register"
    SUBJECTS_CONFLICTS = "subjects:conflicts"
    RECORDS_SUBMIT = "records:submit"
    INGEST_READ = "ingest:read"
    RECORDS_READ_SHARED = "records:read_shared"
    RECORDS_READ_OWN = "records:read_own"
    USERS_MANAGE = "users:manage"
    AUDIT_READ = "audit:read"
    INSTITUTION_PORTAL = "institution:portal"
    FEED_READ = "feed:read"
    QUALITY_READ = "quality:read"
    EVALUATION_MODELS = "evaluation:models"  # define models and run them (departments: their industry models)
    EVALUATION_READ = "evaluation:read"  # grades of subjects
    EVALUATION_READ_OWN = "evaluation:read_own"  # a subject's own grades and explanations
    SUPERVISION_EDIT = "supervision:edit"  # supervision tier schemes (分级分类监管方案)
    SUPERVISION_DRAW = "supervision:draw"  # 双随机 draws (departments: only for themselves)
    SUPERVISION_READ = "supervision:read"  # schemes, and the draws of one's own department
    SANCTIONS_READ = "sanctions:read"  # lists and their entries, the measure list, the legal-basis library
    SANCTIONS_CONFIGURE = "sanctions:configure"  # legal bases, list types, measures (the credit authority)
    SANCTIONS_LISTS = "sanctions:lists"  # put subjects on / take them off lists one's sector maintains
    SANCTIONS_CHECK = "sanctions:check"  # joint checks and their feedback (as a department)
    SANCTIONS_OVERSIGHT = "sanctions:oversight"  # feedback of every department
    COMMITMENTS_MAKE = "commitments:make"  # a subject makes credit commitments and follows its own
    COMMITMENTS_MANAGE = "commitments:manage"  # commitments made to one's department: register, find kept or broken
    REPAIR_APPLY = "repair:apply"  # a subject applies for credit repair, objects to its records, follows its cases
    REPAIR_READ = "repair:read"  # read repair applications, objections and their materials (the service checks whose)
    REPAIR_CASES = "repair:cases"  # the staff pages of repair applications and objections (read-only for the auditor)
    REPAIR_HANDLE = "repair:handle"  # 受理 (authority), decide repairs and answer objections (the department concerned)
    REPORTS_OWN = "reports:own"  # a subject requests and downloads its own credit reports
    REPORTS_MANAGE = "reports:manage"  # the register of reports, revocation, signing keys, recognised platforms
    SHARING_REQUEST = "sharing:request"  # a department files and withdraws share requests (共享申请) for 有条件共享 items
    SHARING_READ = "sharing:read"  # share requests: a department its own, the authority all
    SHARING_APPROVE = "sharing:approve"  # approve or reject share requests; the sharing overview (the authority)
    SHARING_READ_OWN_LOG = "sharing:read_own_log"  # a subject sees which departments read its non-public information
    GRANTS_OWN = "grants:own"  # a subject authorises institutions (授权), lists and revokes its grants
    GRANTS_QUERY = "grants:query"  # an institution queries a subject under a grant it holds
    GRANTS_OVERSIGHT = "grants:oversight"  # grants, queries, refusals, alerts; cross-border reviews (the authority)
    OPERATION_PRODUCTS = "operation:products"  # an operator institution receives data products under its contract
    OPERATION_MANAGE = "operation:manage"  # 授权运营 contracts and the release log (the authority)
    PARTNER_FEED = "partners:feed"  # an internet platform partner pulls list information and acknowledges it
    PARTNERS_MANAGE = "partners:manage"  # platform data partners and their deliveries (the authority)
    LOANS_APPLY = "loans:apply"  # a small firm applies for 信易贷 loans (authorising the bank) and follows them
    LOANS_BANK = "loans:bank"  # a bank publishes loan products, reads applicants' profiles under grants, decides
    LOANS_OVERSIGHT = "loans:oversight"  # 信易贷 lending statistics (the authority)


ROLE_PERMISSIONS: dict[Role, frozenset[P]] = {
    Role.AUTHORITY_ADMIN: frozenset({P.CATALOGUE_EDIT, P.POLICY_EDIT, P.SUBJECTS_READ, P.SUBJECTS_REGISTER,
                                     P.SUBJECTS_CONFLICTS, P.RECORDS_READ_SHARED, P.USERS_MANAGE, P.INGEST_READ, P.FEED_READ,
                                     P.QUALITY_READ, P.EVALUATION_MODELS, P.EVALUATION_READ,
                                     P.SUPERVISION_EDIT, P.SUPERVISION_DRAW, P.SUPERVISION_READ,
                                     P.SANCTIONS_READ, P.SANCTIONS_CONFIGURE, P.SANCTIONS_LISTS, P.SANCTIONS_CHECK,
                                     P.SANCTIONS_OVERSIGHT, P.COMMITMENTS_MANAGE, P.REPAIR_READ, P.REPAIR_CASES,
                                     P.REPAIR_HANDLE, P.REPORTS_MANAGE, P.SHARING_READ, P.SHARING_APPROVE, P.GRANTS_OVERSIGHT,
                                     P.OPERATION_MANAGE, P.PARTNERS_MANAGE, P.LOANS_OVERSIGHT}),
    Role.DEPARTMENT_SUBMITTER: frozenset({P.SUBJECTS_READ, P.SUBJECTS_REGISTER, P.RECORDS_SUBMIT,
                                          P.RECORDS_READ_SHARED, P.INGEST_READ, P.EVALUATION_MODELS,
                                          P.EVALUATION_READ, P.SUPERVISION_DRAW, P.SUPERVISION_READ,
                                          P.SANCTIONS_READ, P.SANCTIONS_LISTS, P.SANCTIONS_CHECK,
                                          P.COMMITMENTS_MANAGE, P.REPAIR_READ, P.REPAIR_CASES, P.REPAIR_HANDLE,
                                          P.SHARING_REQUEST, P.SHARING_READ}),
    Role.APPLYING_DEPARTMENT: frozenset({P.SUBJECTS_READ, P.RECORDS_READ_SHARED, P.EVALUATION_READ,
                                         P.SUPERVISION_READ, P.SANCTIONS_READ, P.SANCTIONS_CHECK,
                                         P.COMMITMENTS_MANAGE, P.SHARING_REQUEST, P.SHARING_READ}),
    Role.SUBJECT_USER: frozenset({P.RECORDS_READ_OWN, P.EVALUATION_READ_OWN, P.COMMITMENTS_MAKE, P.REPAIR_APPLY,
                                  P.REPAIR_READ, P.REPORTS_OWN, P.GRANTS_OWN, P.LOANS_APPLY, P.SHARING_READ_OWN_LOG}),
    Role.AUTHORISED_INSTITUTION: frozenset({P.INSTITUTION_PORTAL, P.GRANTS_QUERY, P.OPERATION_PRODUCTS, P.PARTNER_FEED,
                                            P.LOANS_BANK}),
    Role.AUDITOR: frozenset({P.AUDIT_READ, P.REPAIR_READ, P.REPAIR_CASES}),
    Role.PEER_PLATFORM: frozenset({P.FEED_READ}),
}


def role_allows(role: str, permission: P) -> bool:
    if permission is P.PUBLIC:
        return True
    if role in ("public", "system") or role not in Role.__members__.values():
        return False
    return permission is P.SIGNED_IN or permission in ROLE_PERMISSIONS[Role(role)]
