"""The report formats and the file extensions that choose them (light: the CLI's options import it)."""

from __future__ import annotations

from enum import StrEnum


class Format(StrEnum):
    table = "table"
    json = "json"
    jsonl = "jsonl"
    csv = "csv"
    markdown = "markdown"
    html = "html"
    junit = "junit"


EXTENSIONS = {
    ".json": Format.json, ".jsonl": Format.jsonl, ".ndjson": Format.jsonl, ".csv": Format.csv,
    ".md": Format.markdown, ".markdown": Format.markdown, ".html": Format.html, ".htm": Format.html,
    ".xml": Format.junit, ".txt": Format.table,
}
