"""Catalogue of document types, agency registry, and the sohoa result code (assign, parse, validate)."""

from codes.agencies import Agency, AgencyRegistry, InvalidAgencyId, load_agencies, validate_agency_id
from codes.catalogue import Catalogue, DocumentType, load_catalogue
from codes.result_code import (
    CODE_FORMAT_VERSION,
    InvalidCode,
    ResultCode,
    SequenceSource,
    assign_code,
    parse_code,
)

__all__ = [
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
