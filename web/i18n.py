"""The workspace's words: Vietnamese first, English when the browser prefers it (``Accept-Language``)."""

from __future__ import annotations

import datetime as dt
import re

VIETNAM_TIME = dt.timezone(dt.timedelta(hours=7), "ICT")  # times are shown as people here read them

# key: (Vietnamese, English)
MESSAGES: dict[str, tuple[str, str]] = {
    "app": ("sohoa — số hóa kết quả giải quyết thủ tục hành chính",
            "sohoa — digitizing results of administrative procedures"),
    "nav.counter": ("Quầy tiếp nhận", "Counter"),
    "nav.review": ("Chờ duyệt", "Review"),
    "nav.search": ("Tra cứu", "Search"),
    "nav.progress": ("Tiến độ", "Progress"),
    "nav.signout": ("Đăng xuất", "Sign out"),
    "login.title": ("Đăng nhập", "Sign in"),
    "login.username": ("Tên đăng nhập", "User name"),
    "login.password": ("Mật khẩu", "Password"),
    "login.submit": ("Đăng nhập", "Sign in"),
    "login.wrong": ("Tên đăng nhập hoặc mật khẩu không đúng.", "Wrong user name or password."),
    "login.locked": ("Tài khoản tạm khóa do nhập sai nhiều lần; thử lại sau {until}.",
                     "Too many wrong passwords: the account is locked until {until}."),
    "login.disabled": ("Tài khoản đã bị khóa. Hãy liên hệ quản trị.",
                       "This account is disabled: ask an administrator."),
    "login.slow": ("Quá nhiều lần đăng nhập sai từ máy này; thử lại sau {seconds} giây.",
                   "Too many failed sign-ins from this address: try again in {seconds} s."),
    "login.idle": ("Phiên làm việc đã hết do lâu không thao tác. Hãy đăng nhập lại.",
                   "You were signed out after a while without activity. Sign in again."),
    "csrf": ("Biểu mẫu đã hết hạn. Hãy tải lại trang và thử lại.", "The form expired: reload the page and try again."),
    "forbidden": ("Bạn không có quyền làm việc này.", "You do not have the right to do this."),
    "notfound": ("Không tìm thấy.", "Not found."),
    "counter.title": ("Tiếp nhận bản giấy để số hóa", "Hand in paper to digitize"),
    "counter.files": ("Tệp quét (PDF, PNG, JPEG, TIFF) — kéo thả vào đây hoặc chọn tệp",
                      "Scans (PDF, PNG, JPEG, TIFF) — drop them here or choose files"),
    "counter.dossier": ("Mã hồ sơ (không bắt buộc)", "Dossier code (optional)"),
    "counter.type": ("Loại giấy tờ (không bắt buộc)", "Document type (optional)"),
    "counter.type.any": ("— để sohoa nhận dạng —", "— let sohoa recognize it —"),
    "counter.submit": ("Gửi số hóa", "Digitize"),
    "counter.cover": ("In phiếu bìa hồ sơ", "Print a dossier cover sheet"),
    "counter.recent": ("Tệp đã gửi", "Files handed in"),
    "counter.none": ("Chưa có tệp nào.", "No file yet."),
    "counter.sent": ("Đã nhận {n} tệp; sohoa đang xử lý.", "{n} files received; sohoa is working on them."),
    "col.file": ("Tệp", "File"),
    "col.code": ("Mã kết quả", "Result code"),
    "col.type": ("Loại giấy tờ", "Type"),
    "col.status": ("Trạng thái", "Status"),
    "col.reason": ("Lý do / ghi chú", "Reason / note"),
    "col.when": ("Thời gian", "When"),
    "col.officer": ("Cán bộ", "Officer"),
    "col.agency": ("Cơ quan", "Agency"),
    "col.waiting": ("Chờ từ", "Waiting since"),
    "status.queued": ("Đang chờ", "Queued"),
    "status.processing": ("Đang xử lý", "Processing"),
    "status.archived": ("Đã lưu trữ", "Archived"),
    "status.needs_review": ("Chờ duyệt", "Waiting for review"),
    "status.rejected": ("Bị từ chối", "Rejected"),
    "status.skipped": ("Bỏ qua", "Skipped"),
    "link.pdf": ("Bản ký số (PDF)", "Signed PDF"),
    "link.review": ("Duyệt", "Review"),
    "link.result": ("Xem", "Open"),
    "review.title": ("Giấy tờ chờ duyệt", "Documents waiting for review"),
    "review.filter": ("Lọc", "Filter"),
    "review.reason": ("Lý do", "Reason"),
    "review.any": ("Tất cả", "Any"),
    "review.age": ("Chờ lâu hơn", "Waiting longer than"),
    "review.age.1h": ("1 giờ", "1 hour"),
    "review.age.1d": ("1 ngày", "1 day"),
    "review.age.7d": ("7 ngày", "7 days"),
    "review.none": ("Không có giấy tờ nào chờ duyệt.", "Nothing waits for review."),
    "review.claimed": ("{who} đang duyệt", "{who} is reviewing it"),
    "review.keys": ("Phím tắt: Enter = chấp nhận và mở giấy tờ tiếp theo · J/K = giấy tờ sau/trước · "
                    "R = từ chối · nhấp vào một chữ trên ảnh để điền vào trường đang chọn",
                    "Keys: Enter = accept and open the next · J/K = next/previous · R = reject · "
                    "click a word on the image to put it into the focused field"),
    "review.doc": ("Giấy tờ số {id}", "Document {id}"),
    "review.type": ("Loại giấy tờ", "Document type"),
    "review.accept": ("Chấp nhận (Enter)", "Accept (Enter)"),
    "review.reject": ("Từ chối (R)", "Reject (R)"),
    "review.reject.reason": ("Lý do từ chối", "Why it is rejected"),
    "review.next": ("Sau (J)", "Next (J)"),
    "review.prev": ("Trước (K)", "Previous (K)"),
    "review.confidence": ("độ tin cậy", "confidence"),
    "review.proposals": ("Cách đọc khác (nhấp để dùng):", "Other readings (click to use):"),
    "review.accepted": ("Đã chấp nhận: {code}", "Accepted: {code}"),
    "review.rejected": ("Đã từ chối giấy tờ số {id}.", "Document {id} rejected."),
    "review.noimage": ("Không có ảnh trang (giấy tờ được lưu trước khi có chức năng này).",
                       "No page image was kept for this document."),
    "review.details": ("chi tiết", "details"),
    "review.handed": ("Tiếp nhận bởi {who}", "Handed in by {who}"),
    "review.pages": ("Trang", "Pages"),
    "review.zoom": ("Phóng to/thu nhỏ: con lăn chuột; kéo để di chuyển", "Zoom: mouse wheel; drag to pan"),
    "field.number": ("Số, ký hiệu", "Number"),
    "field.issued_on": ("Ngày ban hành (dd/mm/yyyy)", "Issued on (dd/mm/yyyy)"),
    "field.issuer": ("Cơ quan ban hành", "Issuer"),
    "field.holder": ("Người/tổ chức được cấp", "Holder"),
    "field.holder_id": ("Số định danh", "ID number"),
    "kind.type": ("Loại giấy tờ", "Document type"),
    "kind.number": ("Số, ký hiệu", "Number"),
    "kind.issued_on": ("Ngày ban hành", "Issue date"),
    "kind.issuer": ("Cơ quan ban hành", "Issuer"),
    "kind.holder": ("Người được cấp", "Holder"),
    "kind.legibility": ("Khó đọc", "Hard to read"),
    "kind.register": ("Sổ đăng ký", "Register"),
    "kind.other": ("Khác", "Other"),
    "search.title": ("Tra cứu kết quả đã số hóa", "Find digitized results"),
    "search.q": ("Mã, tên người, nội dung (không cần dấu)", "Code, name, words (diacritics optional)"),
    "search.submit": ("Tìm", "Search"),
    "search.more": ("Thêm điều kiện", "More conditions"),
    "search.dossier": ("Mã hồ sơ", "Dossier code"),
    "search.holder_id": ("Số định danh (chính xác)", "ID number (exact)"),
    "search.number": ("Số, ký hiệu (chính xác)", "Number (exact)"),
    "search.level": ("Cấp", "Level"),
    "search.from": ("Ban hành từ ngày", "Issued from"),
    "search.to": ("đến ngày", "to"),
    "search.found": ("Tìm thấy {n} kết quả.", "{n} results found."),
    "search.none": ("Không tìm thấy kết quả nào.", "No result found."),
    "level.ministry": ("Bộ, ngành", "Ministry"),
    "level.province": ("Tỉnh", "Province"),
    "level.district": ("Huyện", "District"),
    "level.commune": ("Xã", "Commune"),
    "result.title": ("Kết quả {code}", "Result {code}"),
    "result.alias": ("Mã kết quả theo hồ sơ", "Result alias"),
    "result.versions": ("Phiên bản", "Versions"),
    "result.signature": ("Kiểm tra chữ ký số", "Signature check"),
    "result.valid": ("Hợp lệ: chữ ký đúng, tệp nguyên vẹn", "Valid: signatures hold, file intact"),
    "result.invalid": ("KHÔNG hợp lệ", "NOT valid"),
    "result.events": ("Lịch sử bảo quản", "Preservation events"),
    "result.open": ("Mở bản ký số (PDF)", "Open the signed PDF"),
    "result.sha": ("SHA-256", "SHA-256"),
    "result.review": ("Quyết định duyệt: {who}, {when}", "Review decision: {who}, {when}"),
    "progress.title": ("Tiến độ số hóa", "Digitization progress"),
    "progress.targets": ("Chỉ tiêu năm {year} theo cấp và cơ quan", "Targets of {year} per level and agency"),
    "progress.runs": ("Các lượt xử lý", "Batches and backfills"),
    "progress.none": ("Chưa có lượt xử lý nào.", "No run yet."),
    "progress.rate": ("{rate} tệp/phút", "{rate} files/min"),
    "progress.eta": ("còn khoảng {eta}", "about {eta} left"),
    "progress.done": ("xong", "finished"),
    "progress.running": ("đang chạy", "running"),
    "progress.failures": ("Lỗi gần nhất", "Latest failures"),
    "progress.queue": ("Hàng đợi tại quầy: {queued} chờ, {processing} đang xử lý",
                       "Counter queue: {queued} queued, {processing} processing"),
    "run.counter": ("Quầy tiếp nhận", "Counter"),
    "run.backfill": ("Số hóa hồ sơ cũ", "Backfill"),
    "col.level": ("Cấp", "Level"),
    "col.valid": ("Còn hiệu lực", "Still valid"),
    "col.digitized": ("Đã số hóa", "Digitized"),
    "col.target": ("Chỉ tiêu", "Target"),
    "col.share": ("Tỷ lệ", "Share"),
    "col.run": ("Lượt", "Run"),
    "col.progress": ("Tiến độ", "Progress"),
    "signed_in_as": ("Đăng nhập: {name} ({role})", "Signed in: {name} ({role})"),
    "role.clerk": ("cán bộ một cửa", "clerk"),
    "role.reviewer": ("cán bộ kiểm tra", "reviewer"),
    "role.admin": ("quản trị", "admin"),
    "skip": ("Bỏ qua đến nội dung", "Skip to content"),
}

LANGUAGES = ("vi", "en")

# What sohoa says of a field it is unsure of (the pipeline's English sentence), said in Vietnamese; the
# sentence itself stays beside it, for the details (the second readings, the box of a blank).
_REASONS_VI = (
    (re.compile(r"^(number|issued_on|issuer|holder) not found"), "{field}: không tìm thấy hoặc không đọc được"),
    (re.compile(r"^(number|issued_on|issuer|holder) read uncertainly"), "{field}: đọc chưa chắc chắn, hãy kiểm tra"),
    (re.compile(r"^document type not recognized"), "Chưa nhận ra loại giấy tờ"),
    (re.compile(r"^document type uncertain"), "Loại giấy tờ chưa chắc chắn"),
    (re.compile(r"^issuing level unknown"), "Không xác định được cấp ban hành"),
    (re.compile(r"^text hard to read"), "Chữ khó đọc: kiểm tra hoặc quét lại"),
    (re.compile(r"^(cover sheet|the counter) says"), "Loại giấy tờ đã chọn khác với nội dung trang"),
)
_FIELDS_VI = {"number": "Số, ký hiệu", "issued_on": "Ngày ban hành", "issuer": "Cơ quan ban hành",
              "holder": "Người được cấp"}


def reason(lang: str, text: str) -> tuple[str, str | None]:
    """A review reason as a short sentence in ``lang`` and its details (None when the sentence is all)."""
    if lang == "en":
        return text, None
    for pattern, said in _REASONS_VI:
        match = pattern.match(text)
        if match:
            field = _FIELDS_VI.get(match.group(1), "") if match.groups() else ""
            return said.format(field=field), text
    return text, None


def language(accept_language: str | None) -> str:
    """Vietnamese unless the browser's first choice among vi and en is English."""
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("vi"):
            return "vi"
        if tag.startswith("en"):
            return "en"
    return "vi"


def translate(lang: str, key: str, **values: object) -> str:
    vi, en = MESSAGES.get(key, (key, key))
    text = en if lang == "en" else vi
    return text.format(**values) if values else text


def day(value: str | dt.date | dt.datetime | None) -> str:
    """A date as people write it here: dd/mm/yyyy (times in Vietnam's time zone, dd/mm/yyyy HH:MM)."""
    if not value:
        return ""
    if isinstance(value, dt.datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return moment.astimezone(VIETNAM_TIME).strftime("%d/%m/%Y %H:%M")
    if isinstance(value, str):
        try:
            if len(value) > 10:
                return day(dt.datetime.fromisoformat(value))
            value = dt.date.fromisoformat(value)
        except ValueError:
            return value
    return value.strftime("%d/%m/%Y")
