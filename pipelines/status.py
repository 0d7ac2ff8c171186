"""``union-warehouse status``: what an operator asks first, read-only (no lock taken,
nothing written; safe while a run is going): files waiting in the inbox, submissions held
back, the last publish, open alerts by level, streets late for a dataset."""

from __future__ import annotations

from pipelines.config import Settings

LIST_LIMIT = 10  # files listed per section of ``status`` (all are counted)


def _last_publish(settings: Settings) -> dict[str, object] | None:
    """The newest row of the published warehouse's publish log (read-only: the published
    file is replaced whole by a publish, never written in place)."""
    from pipelines.publish.history import published_log

    log = published_log(settings.published_path)
    if log is None or log.is_empty():
        return None
    keys = ("publish_id", "run_id", "published_at", "as_of_date", "submissions_included", "code_version")
    row = log.select(keys).row(-1, named=True)  # the log is in publish order
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()}


def _open_alerts_by_level(settings: Settings) -> dict[str, object]:
    """Open alerts counted by level (warnings and operator alerts apart), read from the alert
    state without opening it for writing (a run may hold it: then it says so)."""
    import duckdb

    from pipelines.alerts.levels import LEVELS

    if not settings.alerts_state_path.exists():
        return {"available": True, "warnings": {}, "operator": {}, "total": 0}
    try:
        with duckdb.connect(str(settings.alerts_state_path), read_only=True) as con:
            rows = con.execute("select rule_kind, level, count(*) from alerts where status = 'open' "
                               "group by 1, 2").fetchall()
    except duckdb.Error as exc:
        return {"available": False, "error": type(exc).__name__}
    order = {lv: i for i, lv in enumerate(LEVELS)}
    out: dict[str, dict[str, int]] = {"warnings": {}, "operator": {}}
    for kind, level, n in sorted(rows, key=lambda r: order.get(r[1], len(order))):
        out["warnings" if kind == "labour" else "operator"][level] = int(n)
    return {"available": True, **out, "total": sum(int(r[2]) for r in rows)}


def _late_feeds(settings: Settings, entries, blocked) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """Streets late for a dataset: the operator rule OPS_SILENT's own definition (its
    parameters from the warning rule file), evaluated now, without recording anything."""
    from datetime import UTC, datetime

    from pipelines.alerts import RuleFileError, load_rules
    from pipelines.alerts.rules.operator import OperatorInputs, silent_feeds

    try:
        rules = load_rules()
    except RuleFileError as exc:
        return {"available": False, "error": str(exc)}
    rule = rules.rules.get("OPS_SILENT")
    if rule is None or not rule.enabled:
        return {"available": False, "error": "OPS_SILENT is off in the warning rule file"}
    now = datetime.now(UTC).replace(tzinfo=None)
    findings = silent_feeds(OperatorInputs(entries, blocked, now), rule.params)
    late = [{"street_code": f.evidence["street_code"], "dataset": f.evidence["dataset"],
             "days_silent": f.evidence["days_silent"], "limit_days": f.evidence["silent_days_limit"],
             "message": f.message} for f in findings]
    return {"available": True, "silent_days": rule.params["silent_days"], "late": late}


def collect_status(settings: Settings) -> dict[str, object]:
    """What ``status`` shows, as plain data. Reads only: no lock, no cache or state written."""
    from pipelines.ingest.dropzone import StateCache, list_inbox, log_ref
    from pipelines.ingest.ledger import LedgerIndex, Status, read_ledger
    from pipelines.ingest.process import pending_files, state_cache_path
    from pipelines.quality.verdicts import blocked_submissions

    entries = read_ledger(settings.ledger_path)
    index = LedgerIndex.build(entries)
    # the state cache is read, never saved: what pending_files remembers stays in memory
    waiting = pending_files(settings, list_inbox(settings.raw_dir), index, StateCache(state_cache_path(settings)))
    blocked = blocked_submissions(settings)
    held = [{"street_code": e.street_code, "dataset": e.dataset, "file": log_ref(e.path), "seq": e.seq,
             "failed": list(blocked[e.sha256])}
            for e in entries if e.status == Status.LOADED and e.sha256 in blocked]
    held = list({h["file"] + str(h["failed"]): h for h in held}.values())  # a file once
    return {
        "ledger": {"files": len(entries), **{s: sum(e.status == s for e in entries)
                                              for s in (Status.LOADED, Status.REJECTED, Status.DUPLICATE)}},
        "pending": {"count": len(waiting), "files": [fs.log_ref() for fs in waiting]},
        "held_back": {"count": len(held), "submissions": held},
        "last_publish": _last_publish(settings),
        "open_alerts": _open_alerts_by_level(settings),
        "late": _late_feeds(settings, entries, blocked),
    }


def _listed(items: list, limit: int = LIST_LIMIT) -> list[str]:  # type: ignore[type-arg]
    more = [f"    ... and {len(items) - limit} more"] if len(items) > limit else []
    return [f"    {item}" for item in items[:limit]] + more


def when_utc(stamp: str) -> str:
    """A stored instant as an operator reads it: ``2026-12-07 10:05:59 UTC (北京时间 18:05)``;
    a stamp without a zone is taken as UTC (how the publish log writes it), text that is
    not a timestamp is shown as it is."""
    from datetime import UTC, datetime

    from pipelines.config import BEIJING

    try:
        at = datetime.fromisoformat(str(stamp))
    except ValueError:
        return str(stamp)
    at = at.astimezone(UTC) if at.tzinfo else at.replace(tzinfo=UTC)
    beijing = at.astimezone(BEIJING)
    return f"{at:%Y-%m-%d %H:%M:%S} UTC (北京时间 {beijing:%m-%d %H:%M})"


def status_lines(status: dict) -> list[str]:  # type: ignore[type-arg]
    ledger, pending, held = status["ledger"], status["pending"], status["held_back"]
    lines = [f"Ledger 台账: {ledger['files']} file(s) (loaded {ledger['loaded']}, rejected "
             f"{ledger['rejected']}, duplicate {ledger['duplicate']})"]
    lines.append(f"Pending 待处理: {pending['count']} file(s) in the inbox not yet in the ledger"
                 if pending["count"] else "Pending 待处理: none")
    lines += _listed(pending["files"])
    lines.append(f"Held back 暂缓入库: {held['count']} submission(s) held back by the quality gate"
                 if held["count"] else "Held back 暂缓入库: none")
    lines += _listed([f"{h['street_code']} {h['dataset']} {h['file']}: failed {', '.join(h['failed'])}"
                      for h in held["submissions"]])
    pub = status["last_publish"]
    if pub is None:
        lines.append("Last publish 最近发布: none (no published warehouse yet)")
    else:
        lines.append(f"Last publish 最近发布: #{pub['publish_id']} as of {pub['as_of_date']}, at "
                     f"{when_utc(pub['published_at'])}, {pub['submissions_included']} submission(s) included "
                     f"(code {pub['code_version']})")
    alerts = status["open_alerts"]
    if not alerts["available"]:
        lines.append(f"Open alerts 未关闭预警: unavailable ({alerts['error']}: a run may be writing "
                     "the alert state; try again)")
    elif not alerts["total"]:
        lines.append("Open alerts 未关闭预警: none")
    else:
        def levels(d: dict) -> str:  # type: ignore[type-arg]
            return ", ".join(f"{lv} {n}" for lv, n in d.items()) or "none"
        lines.append(f"Open alerts 未关闭预警: {alerts['total']} — warnings {levels(alerts['warnings'])}; "
                     f"operator alerts {levels(alerts['operator'])}")
    late = status["late"]
    if not late["available"]:
        lines.append(f"Late 逾期未报送: not evaluated ({late['error']})")
    else:
        lines.append(f"Late 逾期未报送 (nothing sent in {late['silent_days']}+ days, rule OPS_SILENT): "
                     + (f"{len(late['late'])} street/dataset pair(s)" if late["late"] else "none"))
        lines += _listed([f"{x['street_code']} {x['dataset']}: {x['days_silent']} days (limit "
                          f"{x['limit_days']})" for x in late["late"]])
    return lines
