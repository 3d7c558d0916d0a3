"""Reports: tables, the verdict, CSV, Markdown, plots and comparisons. Each only formats what
:mod:`lab.results.analysis` derived."""
