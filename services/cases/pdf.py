"""The case file as one document: a JSON bundle and a PDF a prosecutor can read (ReportLab)."""

import io
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import inch
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from casewire.alerts import FACE_NOTICE

RELIABILITY = {"A": "reliable", "B": "usually reliable", "C": "unreliable", "D": "reliability unknown"}
VALIDITY = {"1": "confirmed", "2": "probable", "3": "doubtful", "4": "cannot be judged"}


def _p(text: object, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(str(text if text is not None else "")).replace("\n", "<br/>"), style)


def _table(rows: list[list], style: ParagraphStyle, widths: list[float] | None = None) -> Table:
    table = Table([[_p(cell, style) for cell in row] for row in rows], colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8e8e8")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table


def render_pdf(bundle: dict) -> bytes:
    """Render the bundle ``export_case`` builds; every section is present, empty ones say so."""
    styles = getSampleStyleSheet()
    body, small, h1, h2 = styles["BodyText"], styles["Normal"], styles["Title"], styles["Heading2"]
    small.fontSize = 8
    case = bundle["case"]
    story = [_p(f"Case file: {case['title']}", h1)]
    if case.get("notice"):  # C8: identifying information only
        story.append(_p(case["notice"], h2))
    header = [
        ["Case id", case["id"]],
        ["Classification", case["classification"]],
        ["Status", case["status"]],
        ["Type / priority", f"{case.get('type')} / {case.get('priority')}"],
        ["Owning unit / agency", f"{case.get('unit')} / {case.get('agency') or ''}"],
        ["Assignees", ", ".join(case.get("assignees") or []) or "none"],
        ["Opened", f"{case.get('opened_at')} by {case.get('opened_by')}"],
    ]
    for disposition in case.get("dispositions") or []:
        header.append(
            [
                "Disposition",
                f"{disposition['outcome']} on {disposition['date']}, recorded {disposition['recorded_at']} by "
                f"{disposition['recorded_by']}" + (f": {disposition['note']}" if disposition.get("note") else ""),
            ]
        )
    if case.get("attached_to"):
        header.append(["Identifies", f"{case.get('attached_subject')} of record {case['attached_to']}"])
    if case["classification"] == "criminal_intelligence":
        header += [
            ["Offense category", case.get("offense_category")],
            ["Sensitivity", case.get("sensitivity")],
            [
                "Source reliability",
                f"{case.get('source_reliability')} ({RELIABILITY.get(case.get('source_reliability'))})",
            ],
            ["Content validity", f"{case.get('content_validity')} ({VALIDITY.get(case.get('content_validity'))})"],
            ["Submitter / agency", f"{case.get('submitter')} / {case.get('submitting_agency')}"],
            ["Control official", case.get("control_official")],
            ["Source / how obtained", f"{case.get('source_type')}: {case.get('obtained_how')}"],
            ["Review state / due", f"{case.get('review_state')} / {case.get('review_due')}"],
        ]
    story += [_table(header, small, [1.8 * inch, 4.9 * inch]), Spacer(1, 8)]
    story += [_p("Summary", h2), _p(case.get("summary") or "No summary.", body)]
    if case.get("reasonable_suspicion"):
        story += [_p("Reasonable suspicion (criminal predicate)", h2), _p(case["reasonable_suspicion"], body)]
    story += _section(
        "Linked alerts",
        [["Alert", "Source", "Occurred", "Linked by"]]
        + [
            [a["alert_id"], a.get("source"), a.get("occurred_at"), a.get("linked_by")] for a in case.get("alerts") or []
        ],
        small,
    )
    if any(a.get("source") == "face" for a in case.get("alerts") or []):
        story.append(_p(f"Face recognition: {FACE_NOTICE}.", body))
    story += _section(
        "Entities",
        [["Entity", "Type", "Role"]]
        + [[e.get("display") or e["entity_id"], e.get("type"), e["role"]] for e in case.get("entities") or []],
        small,
    )
    story += _section(
        "Notes", [["When", "By", "Text"]] + [[n["recorded_at"], n["by"], n["text"]] for n in bundle["notes"]], small
    )
    for report in bundle["reports"]:
        story += [
            _p(f"Report: {report['title']} ({report['recorded_at']}, {report['by']})", h2),
            _p(report["body"], body),
        ]
    story += _section(
        "Interviews",
        [["Who", "When", "By whom", "Summary"]]
        + [[i["interviewee"], i["at"], i["interviewer"], i["summary"]] for i in bundle["interviews"]],
        small,
    )
    story += _section(
        "Tasks", [["Task", "Assignee", "Due"]] + [[t["title"], t["assignee"], t["due"]] for t in bundle["tasks"]], small
    )
    for item in bundle["evidence"]:
        story += [_p(f"Evidence {item['id']}: {item['description']}", h2)]
        story.append(_p(f"Collected {item['collected_at']} by {item['collected_by']}", body))
        chain = [["#", "From", "To", "When", "Why", "Condition"]] + [
            [c["seq"], c["from"], c["to"], c["at"], c["reason"], c["condition"]] for c in item["custody"]
        ]
        story += [_table(chain, small), Spacer(1, 6)]
    story += _section(
        "Attachments (SHA-256 recorded at upload)",
        [["File", "Type", "Bytes", "SHA-256"]]
        + [[f["filename"], f["content_type"], f["size"], f["sha256"]] for f in bundle["attachments"]],
        small,
    )
    story += _section(
        "Dissemination log",
        [["When", "Recipient", "Agency", "Need to know", "By"]]
        + [[d["at"], d["recipient"], d["agency"], d["need_to_know"], d["by"]] for d in bundle["disseminations"]],
        small,
    )
    story += [
        Spacer(1, 10),
        _p(
            f"Exported {bundle['exported_at']} by {bundle['exported_by']} for {bundle['recipient']} "
            f"({bundle['agency']}); need to know: {bundle['need_to_know']}; "
            f"dissemination {bundle['dissemination_id']}.",
            small,
        ),
    ]
    buffer = io.BytesIO()
    SimpleDocTemplate(buffer, pagesize=LETTER, title=f"Case file {case['id']}", author="Casewire").build(story)
    return buffer.getvalue()


def _section(title: str, rows: list[list], style: ParagraphStyle) -> list:
    styles = getSampleStyleSheet()
    if len(rows) == 1:
        return [_p(title, styles["Heading2"]), _p("None.", styles["BodyText"])]
    return [_p(title, styles["Heading2"]), _table(rows, style), Spacer(1, 6)]
