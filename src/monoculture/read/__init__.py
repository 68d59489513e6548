"""Stage 1, read: files and pipes into Arrow tables, one *source* per decision-maker.

`files` reads CSV (plain, gzip, stdin, pipes) and Parquet; `csvscan` is the C fast path for CSV; `sources`
turns the input layouts (a file per decision-maker, wide, stacked, transposed) and the people file into
sources; `ids` and `fingerprints` parse ID text into numbers; `values` puts decisions, labels and group
values in canonical text; `memory` estimates what an audit will hold before it reads.
"""
