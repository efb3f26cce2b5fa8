"""Catalogue of document types, agency registry, and the sohoa result code (assign, parse, validate)."""

from codes.agencies import (
    Agency,
    AgencyRegistry,
    InvalidAgencyId,
    load_agencies,
    parse_agencies_csv,
    validate_agency_id,
)
from codes.catalogue import Catalogue, DocumentType, load_catalogue
from codes.dossier import DossierCode, ResultAlias, parse_any, parse_dossier_code, parse_result_alias
from codes.result_code import (
    CODE_FORMAT_VERSION,
    VIETNAM_TIME,
    InvalidCode,
    ResultCode,
    SequenceSource,
    assign_code,
    parse_code,
)
from codes.targets import (
    InvalidTargets,
    TargetPlan,
    TargetsReport,
    compute_targets_report,
    load_targets,
    parse_valid_results_csv,
)

__all__ = [
    "VIETNAM_TIME",
    "DossierCode",
    "InvalidTargets",
    "ResultAlias",
    "TargetPlan",
    "TargetsReport",
    "compute_targets_report",
    "load_targets",
    "parse_agencies_csv",
    "parse_any",
    "parse_dossier_code",
    "parse_result_alias",
    "parse_valid_results_csv",
    "Agency",
    "AgencyRegistry",
    "CODE_FORMAT_VERSION",
    "Catalogue",
    "DocumentType",
    "InvalidAgencyId",
    "InvalidCode",
    "ResultCode",
    "SequenceSource",
    "assign_code",
    "load_agencies",
    "load_catalogue",
    "parse_code",
    "validate_agency_id",
]
