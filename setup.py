"""The compiled pieces of the streaming link: `_csvscan`, its CSV reader (src/monoculture/read/csvscan.py),
and `_idtable`, its exact hash table of text IDs (src/monoculture/read/text_table.py).

Both optional: where no C compiler is found the install goes on without them; every CSV is then read by
Arrow and text IDs are coded through NumPy fingerprints (src/monoculture/read/fingerprints.py).
"""

from setuptools import Extension, setup

setup(ext_modules=[
    Extension("monoculture.read._csvscan", ["src/monoculture/read/_csvscan.c"], optional=True),
    Extension("monoculture.read._idtable", ["src/monoculture/read/_idtable.c"], optional=True),
])
