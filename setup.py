"""The one compiled piece: `_csvscan`, the streaming link's CSV reader (src/monoculture/read/csvscan.py).

Optional: where no C compiler is found the install goes on without it and every CSV is read by Arrow.
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension("monoculture.read._csvscan", ["src/monoculture/read/_csvscan.c"], optional=True)])
