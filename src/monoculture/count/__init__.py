"""Stage 3, count: the pattern table C[cell, pattern], the sufficient statistic of every binary metric.

`table` is the table and its views; `table_file` its Parquet interchange format (`monoculture count -o`,
`audit --patterns`); `engines` counts out of memory with DuckDB SQL (`sql`) or Spark (`spark_values`).
"""
