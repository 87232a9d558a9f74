"""The E-DE-F-010 workbook as a file: generating the template (reading lives beside it)."""
