"""Records in: validation, file readers, and the pipeline that feeds the queue.

`check_rows` turns decoded rows (an HTTP body) into a `Chunk` of records and dead rows;
`open_source(...).chunks(validator)` does the same for a CSV or JSON Lines file; `ingest`
puts chunks into a queue and counts what happened in an `IngestSummary`.
"""

from uploader.ingest.pipeline import CHUNK_ROWS, Chunk, IngestSummary, check_rows, ingest
from uploader.ingest.readers import Source, open_source
from uploader.ingest.validate import Validator

__all__ = [
    "CHUNK_ROWS",
    "Chunk",
    "IngestSummary",
    "Source",
    "Validator",
    "check_rows",
    "ingest",
    "open_source",
]
