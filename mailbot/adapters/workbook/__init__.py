"""The E-DE-F-010 workbook as a file: generating the template (reading lives beside it)."""

from mailbot.imports import hidden

with hidden("numpy"):  # openpyxl's numpy types are never written here: ~12 MB less per process (mailbot.imports)
    import openpyxl as openpyxl  # the one import of it that counts: re-exported for adapters.catalogue
