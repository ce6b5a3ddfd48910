"""Contacts: importing CSV/XLSX files into validated contacts with a per-row report."""

from runtime.contacts.importer import (
    Contact,
    ImportOptions,
    ImportReport,
    Issue,
    RejectCode,
    RejectedRow,
    WarningCode,
    import_contacts,
)
from runtime.contacts.reader import ContactsFileError

__all__ = [
    "Contact",
    "ContactsFileError",
    "ImportOptions",
    "ImportReport",
    "Issue",
    "RejectCode",
    "RejectedRow",
    "WarningCode",
    "import_contacts",
]
