"""The compiled pieces: `_csvscan`, the streaming link's CSV reader (src/monoculture/read/csvscan.py),
`_idtable`, its exact hash table of text IDs (src/monoculture/read/text_table.py), and `_pmf`, the
Poisson-binomial recursion of the ecosystem baselines (src/monoculture/measure/metrics/ecosystem.py).

All optional: where no C compiler is found the install goes on without them; every CSV is then read by
Arrow, text IDs are coded through NumPy fingerprints (src/monoculture/read/fingerprints.py) and the
recursion runs in NumPy, to the same numbers.
"""

from setuptools import Extension, setup

setup(ext_modules=[
    Extension("monoculture.read._csvscan", ["src/monoculture/read/_csvscan.c"], optional=True),
    Extension("monoculture.read._idtable", ["src/monoculture/read/_idtable.c"], optional=True),
    # No fused multiply-add: the same roundings as the NumPy recursion, so the same bits.
    Extension("monoculture.measure.metrics._pmf", ["src/monoculture/measure/metrics/_pmf.c"], optional=True,
              extra_compile_args=["-ffp-contract=off"]),
])
