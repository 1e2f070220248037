"""The open data API, /api/v1: read-only JSON for the public — summary per year, appeals with
progress, programmes with balances, the public ledger (same filters as /cong-khai/sao-ke)
and money out per programme. Paged, cached by HTTP (Cache-Control + ETag), rate-limited
(API_RATE_LIMIT), CORS for GET. Every figure comes from the same services as the pages.

The OpenAPI 3 document (/api/openapi.json) is generated from this code by apispec: response
and query schemas are the marshmallow schemas below, paths come from the URL map and each
view's `openapi` attribute. /api/docs browses it with Swagger UI served from the
swagger-ui-bundle package (no CDN). Bad input: 400 with {"error": message, "status": 400}.
"""
from __future__ import annotations

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Blueprint, Response, current_app, jsonify, render_template, request, send_from_directory, url_for
from flask_cors import CORS
from marshmallow import Schema, fields, validate
from swagger_ui_bundle import swagger_ui_path

from app.errors import DomainError
from app.extensions import limiter
from app.i18n import _, vietnamese
from app.models import Channel
from app.services.reports import public_ledger as ledger
from app.services.reports.period import FIRST_YEAR
from app.timeutil import local_today

bp = Blueprint("api", __name__, url_prefix="/api/v1")
docs_bp = Blueprint("api_docs", __name__, url_prefix="/api")
CORS(bp, methods=["GET"], max_age=3600)
CACHE_SECONDS = 300
API_VERSION = "1.0.0"


def N_(text: str) -> str:
    """Marks a msgid for the catalog; the OpenAPI document translates it (`_translated`)."""
    return text


def _rate_limit() -> str:
    return current_app.config.get("API_RATE_LIMIT", "120 per minute")


limiter.limit(_rate_limit)(bp)


@bp.errorhandler(DomainError)
def on_domain_error(error: DomainError):
    status = 404 if error.status_code == 404 else 400
    return jsonify(error=error.message, status=status), status


@bp.before_request
def refuse_blank_parameters():
    """The pages treat an empty form field as "no filter"; the API takes only what it
    documents, so an empty or space-padded value is a 400, not a silent default."""
    for name, value in request.args.items(multi=True):
        if not value or value != value.strip():
            return jsonify(error=_("Tham số «%(name)s» trống hoặc có khoảng trắng thừa.", name=name[:40]), status=400), 400
    return None


@bp.after_request
def cache(response: Response) -> Response:
    if response.status_code == 200 and request.method == "GET":
        response.cache_control.public = True
        response.cache_control.max_age = CACHE_SECONDS
        response.add_etag()
        response.make_conditional(request)
    return response


# --------------------------------------------------------------------------- schemas

def _year_field(**kw):
    return fields.Integer(validate=validate.Range(FIRST_YEAR, local_today().year),
                          metadata={"description": N_("Năm (giờ Việt Nam); mặc định năm nay.")}, **kw)


class ErrorSchema(Schema):
    error = fields.String(required=True)
    status = fields.Integer(required=True)


class YearQuery(Schema):
    year = _year_field()


class PageQuery(Schema):
    page = fields.Integer(validate=validate.Range(1, ledger.MAX_PAGE))
    per_page = fields.Integer(validate=validate.Range(1, ledger.MAX_PER_PAGE))


class LedgerQuery(PageQuery):
    date_from = fields.Date(metadata={"description": N_("Từ ngày (YYYY-MM-DD), giờ Việt Nam.")})
    date_to = fields.Date()
    amount_min = fields.Integer(validate=validate.Range(0, 10**12))
    amount_max = fields.Integer(validate=validate.Range(0, 10**12))
    name = fields.String(validate=validate.Length(max=100),
                         metadata={"description": N_("Tên nhà hảo tâm đã đồng ý công khai (chỉ chữ).")})
    channel = fields.String(validate=validate.OneOf([c.value for c in Channel]))


class MoneyOutQuery(PageQuery):
    year = _year_field()
    programme = fields.String(metadata={"description": N_("Mã chương trình, xem /api/v1/programmes.")})


class MonthSchema(Schema):
    month = fields.Integer(required=True)
    received = fields.Integer(required=True)
    spent = fields.Integer(required=True)


class SummarySchema(Schema):
    year = fields.Integer(required=True)
    received = fields.Integer(required=True, metadata={"description": N_("Thực thu (đồng), đã trừ hoàn trả.")})
    received_money = fields.Integer(required=True)
    received_in_kind = fields.Integer(required=True)
    gifts = fields.Integer(required=True)
    donors = fields.Integer(required=True)
    spent = fields.Integer(required=True)
    children_supported = fields.Raw(required=True, metadata={
        "description": N_("Số trẻ; chuỗi \"< 5\" khi dưới 5."), "oneOf": [{"type": "integer"}, {"type": "string"}]})
    by_channel = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    by_source = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    months = fields.List(fields.Nested(MonthSchema), required=True)


class AppealSchema(Schema):
    slug = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.String(required=True)
    goal = fields.Integer(required=True, allow_none=True)
    raised = fields.Integer(required=True)
    raised_in_year = fields.Integer(required=True)
    donors = fields.Integer(required=True)
    percent = fields.Integer(required=True, allow_none=True)


class AppealsSchema(Schema):
    year = fields.Integer(required=True)
    items = fields.List(fields.Nested(AppealSchema), required=True)


class ProgrammeSchema(Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)
    opening = fields.Integer(required=True)
    received = fields.Integer(required=True)
    spent = fields.Integer(required=True)
    reserved = fields.Integer(required=True)
    closing = fields.Integer(required=True)


class ProgrammesSchema(Schema):
    year = fields.Integer(required=True)
    items = fields.List(fields.Nested(ProgrammeSchema), required=True)


class LedgerLineSchema(Schema):
    date = fields.Date(required=True)
    amount = fields.Integer(required=True, metadata={"description": N_("Âm khi là hoàn trả, điều chỉnh.")})
    channel = fields.String(required=True)
    donor = fields.String(required=True, metadata={"description": N_("Tên đã đồng ý công khai, hoặc «Nhà hảo tâm».")})
    reversal = fields.Boolean(required=True)


class LedgerSchema(Schema):
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)
    total = fields.Integer(required=True, metadata={"description": N_("Số dòng, tối đa %(cap)s.")})
    total_is_exact = fields.Boolean(required=True)
    has_next = fields.Boolean(required=True)
    items = fields.List(fields.Nested(LedgerLineSchema), required=True)


class MoneyOutLineSchema(Schema):
    date = fields.Date(required=True)
    programme = fields.String(required=True)
    programme_name = fields.String(required=True)
    kind = fields.String(required=True)
    amount = fields.Integer(required=True)
    case = fields.String(required=True, metadata={"description": N_("Mã hồ sơ nội bộ, không định danh trẻ em.")})


class MoneyOutSchema(Schema):
    year = fields.Integer(required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)
    total = fields.Integer(required=True)
    amount = fields.Integer(required=True)
    has_next = fields.Boolean(required=True)
    items = fields.List(fields.Nested(MoneyOutLineSchema), required=True)


def documented(summary: str, query: type[Schema] | None, response: type[Schema]):
    """Attach the OpenAPI operation of a GET view (read by `openapi_document`)."""
    def decorator(view):
        operation = {"summary": summary, "responses": {
            "200": {"description": "OK", "content": {"application/json": {"schema": response}}},
            "400": {"description": N_("Tham số không hợp lệ"), "content": {"application/json": {"schema": ErrorSchema}}},
            "429": {"description": N_("Quá nhiều yêu cầu"), "content": {"application/json": {"schema": ErrorSchema}}},
        }}
        if query is not None:
            operation["parameters"] = [{"in": "query", "schema": query}]
        view.openapi = operation
        return view
    return decorator


# --------------------------------------------------------------------------- endpoints

@bp.get("/summary")
@documented(N_("Tổng tiếp nhận, chi và theo tháng của một năm"), YearQuery, SummarySchema)
def summary():
    year = ledger.year_arg(request.args)
    with vietnamese():  # the data's labels are the fund's own words; only errors follow the language
        return jsonify(ledger.year_summary(year).as_json())


@bp.get("/appeals")
@documented(N_("Các đợt vận động công khai và tiến độ"), YearQuery, AppealsSchema)
def appeals():
    year = ledger.year_arg(request.args)
    from app.services.reports.period import make_period

    with vietnamese():
        return jsonify(year=year, items=[a.as_json() for a in ledger.public_appeal_totals(make_period(year))])


@bp.get("/programmes")
@documented(N_("Các chương trình (quỹ hạn chế) và số dư"), YearQuery, ProgrammesSchema)
def programmes():
    year = ledger.year_arg(request.args)
    flows = ledger.year_summary(year).flows
    return jsonify(year=year, items=[{"code": r.code, "name": r.name, "opening": r.opening, "received": r.received,
                                      "spent": r.spent, "reserved": r.reserved, "closing": r.closing}
                                     for r in flows.rows])


@bp.get("/ledger")
@documented(N_("Sao kê tiếp nhận (cùng bộ lọc với trang /cong-khai/sao-ke)"), LedgerQuery, LedgerSchema)
def ledger_lines():
    f = ledger.LedgerFilter.from_args(request.args)
    page, per_page = ledger.paging(request.args)
    with vietnamese():
        result = ledger.ledger_page(f, page, per_page)
        items = [x.as_json() for x in result.items]
    return jsonify(page=result.page, per_page=result.per_page, total=result.total,
                   total_is_exact=result.total_is_exact, has_next=result.has_next, items=items)


@bp.get("/money-out")
@documented(N_("Các khoản chi hỗ trợ theo chương trình"), MoneyOutQuery, MoneyOutSchema)
def money_out():
    year, code, page, per_page = ledger.money_out_args(request.args)
    result = ledger.money_out(year, code, page, per_page)
    return jsonify(year=result.year, page=result.page, per_page=result.per_page, total=result.total,
                   amount=result.amount, has_next=result.has_next, items=[x.as_json() for x in result.items])


# --------------------------------------------------------------------------- OpenAPI + docs

def openapi_document() -> dict:
    spec = APISpec(title=_("Dữ liệu mở — Quỹ Bảo trợ trẻ em thành phố Hải Phòng"), version=API_VERSION,
                   openapi_version="3.0.3", plugins=[MarshmallowPlugin()],
                   info={"description": _("Số liệu công khai, chỉ đọc. Số tiền là số nguyên đồng.")},
                   servers=[{"url": "/"}])
    spec.components.schema("Error", schema=ErrorSchema)
    for rule in sorted(current_app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.endpoint.startswith("api."):
            continue
        view = current_app.view_functions[rule.endpoint]
        if hasattr(view, "openapi"):
            spec.path(path=rule.rule, operations={"get": dict(view.openapi, operationId=rule.endpoint)})
    return _translated(spec.to_dict())


def _translated(node):
    """The document's summaries and descriptions (msgids marked N_) in the reader's language."""
    if isinstance(node, dict):
        return {key: _text(value) if key in ("summary", "description") and isinstance(value, str) and value
                else _translated(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_translated(item) for item in node]
    return node


def _text(msgid: str) -> str:
    return _(msgid).replace("%(cap)s", str(ledger.COUNT_CAP + 1))


@docs_bp.get("/openapi.json")
def openapi_json():
    return jsonify(openapi_document())


@docs_bp.get("/docs")
def docs():
    return render_template("api/docs.html", spec_url=url_for("api_docs.openapi_json"))


@docs_bp.get("/docs/assets/<path:filename>")
def docs_assets(filename: str):
    if filename not in {"swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js"}:
        return jsonify(error=_("Không tìm thấy."), status=404), 404
    return send_from_directory(swagger_ui_path, filename, max_age=86400)
