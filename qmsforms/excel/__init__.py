"""The Excel wing: read, bind, extract, issue, fill and annotate .xlsx workbooks."""
