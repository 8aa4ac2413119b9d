"""handoutkit: multilingual patient handouts from YAML, gettext catalogs and WeasyPrint."""

__version__ = "0.1.0"
