"""The report job: one self-contained HTML page of a flash image, its partitions and stores,
their health, wear and power-loss campaigns.

Entry points::

    from flashstack.report import collect, write_report
    data = collect(["build/"], wear=["wear.json"], torture=["kv.json"])
    write_report(data, "report.html")

:mod:`.model` (standard library only) computes the geometry and summaries; :mod:`.job`
renders them with Jinja2 (extra ``report``); :mod:`.plots` draws ``plan``/``wear`` charts
with matplotlib.
"""

from .job import ReportData, collect, render_html, write_report
from .model import DeviceMap, MapBox, TortureSummary, WearMap, device_maps, load_torture, load_wear

__all__ = ["ReportData", "collect", "render_html", "write_report", "DeviceMap", "MapBox",
           "TortureSummary", "WearMap", "device_maps", "load_torture", "load_wear"]
