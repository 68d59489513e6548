"""Group values in Spark's typed columns (Parquet floats, zoned timestamps) written as the other engines
write them, so a Spark audit's groups carry the same labels and meet the same CSV text.

Spark's own CAST writes a double as Java does ("1.0E20", "NaN"; before Java 19 not always in its shortest
digits) and a float32 from its own shortest digits where DuckDB may write the double's ("343126.12" for
DuckDB's "343126.125", see `float32_text`). No Spark SQL expression writes Python's (and DuckDB's) form, so
each input's distinct non-zero, non-NaN values of such a column are brought back, written by
`values.group_text`, and joined back (broadcast: there are as many as the column has groups). Zeros keep
Spark's text, which already has the sign ("-0.0"), and NaN is "nan": Spark treats all NaNs, and -0.0 and
0.0, as equal keys, so they cannot be told apart through a join.

A zoned timestamp (Spark's TIMESTAMP) is written in the session's zone, which the engine sets to UTC, and
takes the "+00" that DuckDB writes after it; TIMESTAMP_NTZ already reads alike.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from ..read.values import group_text

_KEY, _TEXT = "__monoculture_value", "__monoculture_text"


def spark_group_text(spark: Any, frame: Any, groups: list[str]) -> Any:
    """`frame` with its float and zoned-timestamp group columns replaced by their text (see module doc)."""
    from pyspark.sql import functions as F

    for column, kind in frame.dtypes:
        if column.strip() not in groups:
            continue
        value = F.col("`" + column.replace("`", "``") + "`")
        if kind == "timestamp":
            frame = frame.withColumn(column, F.concat(value.cast("string"), F.lit("+00")))
        elif kind in ("float", "double"):
            frame = _float_text(spark, frame, column, value)
    return frame


def _float_text(spark: Any, frame: Any, column: str, value: Any) -> Any:
    from pyspark.sql import functions as F
    from pyspark.sql.types import StringType, StructField, StructType

    ordinary = value.isNotNull() & ~F.isnan(value) & (value != 0)
    kind = frame.schema[column].dataType
    # Rows, not pandas: a float32 comes back as the Python float it widens to, exactly, and goes back so.
    distinct = [row[0] for row in frame.select(value.alias(_KEY)).where(ordinary).distinct().collect()]
    words = group_text(pa.array(distinct, pa.float32() if kind.typeName() == "float" else pa.float64())).to_pylist()
    schema = StructType([StructField(_KEY, kind), StructField(_TEXT, StringType())])
    mapping = spark.createDataFrame(list(zip(distinct, words, strict=True)), schema=schema)
    joined = frame.join(F.broadcast(mapping), on=value == mapping[_KEY], how="left")
    text = (F.when(value.isNull(), F.lit(None).cast("string")).when(F.isnan(value), F.lit("nan"))
            .when(value == 0, value.cast("string")).otherwise(F.col(_TEXT)))
    return joined.withColumn(column, text).drop(_KEY, _TEXT)
