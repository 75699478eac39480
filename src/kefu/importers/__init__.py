"""Importers: workbench and data-set exports → kefu's canonical tables (docs/importers.md).

``kefu import <format> <files…> --out <dir>`` writes canonical Parquet that
``kefu assess <dir>`` reads with no options, plus ``quarantine.csv`` with every record that
could not be used, so that ``read = accepted + quarantined``.
"""

from kefu.importers.commands import FORMATS, run_import
from kefu.importers.common import ImportReport
from kefu.importers.pdd import import_pdd
from kefu.importers.qianniu import ShopAccounts, import_qianniu
from kefu.importers.twcs import import_twcs
from kefu.importers.wangwang import import_wangwang
from kefu.importers.wechat_kf import import_wechat_kf

__all__ = [
    "FORMATS",
    "ImportReport",
    "ShopAccounts",
    "import_pdd",
    "import_qianniu",
    "import_twcs",
    "import_wangwang",
    "import_wechat_kf",
    "run_import",
]
