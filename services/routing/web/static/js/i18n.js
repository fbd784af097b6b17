// Vietnamese and English strings of the console; the language follows the browser, then the
// switch (remembered in localStorage: a preference, not a secret).
const T = {
  vi: {
    brand: "Điều hành phản ánh hiện trường", skip: "Bỏ qua đến nội dung", logout: "Đăng xuất",
    login: "Đăng nhập", username: "Tên đăng nhập", password: "Mật khẩu", signIn: "Đăng nhập",
    loginHelp: "Cán bộ đơn vị, điều hành viên IOC và quản trị viên.",
    badLogin: "Sai tên đăng nhập hoặc mật khẩu.", expired: "Phiên làm việc đã hết hạn, vui lòng đăng nhập lại.",
    queue: "Hàng việc", triage: "Phân loại IOC", jurisdiction: "Địa bàn", accounts: "Tài khoản",
    queueOf: "Hàng việc của {agency}", allAgencies: "mọi đơn vị",
    filters: "Bộ lọc", status: "Trạng thái", category: "Lĩnh vực", agency: "Đơn vị", overdueOnly: "Chỉ quá hạn",
    any: "Tất cả", openStatuses: "Đang mở", apply: "Lọc", refresh: "Tải lại",
    assigned: "Đã giao", accepted: "Đã nhận", in_progress: "Đang xử lý", resolved: "Đã xử lý",
    rejected: "Từ chối", duplicate: "Trùng lặp", received: "Tiếp nhận", closed: "Đã đóng",
    due: "Hạn", overdue: "Quá hạn", attempt: "Lần giao", area: "Khu vực", reason: "Lý do giao",
    created: "Tạo lúc", report: "Phản ánh", none: "Không có phản ánh nào.", count: "{n} phản ánh",
    open: "Mở", back: "Quay lại hàng việc", detail: "Chi tiết phản ánh", location: "Vị trí",
    description: "Mô tả", address: "Địa chỉ", supporters: "Người ủng hộ", photos: "Ảnh của người dân",
    resolutionPhotos: "Ảnh kết quả xử lý", timeline: "Diễn biến", actions: "Xử lý",
    noActions: "Không còn thao tác nào cho trạng thái này.", publicUnavailable: "Không tải được nội dung công khai của phản ánh.",
    note: "Ghi chú", optional: "(không bắt buộc)", accept: "Nhận việc", start: "Bắt đầu xử lý",
    reject: "Từ chối (không thuộc thẩm quyền)", rejectReason: "Lý do từ chối", transfer: "Chuyển đơn vị",
    toAgency: "Đơn vị nhận", resolve: "Báo đã xử lý", resolveNote: "Kết quả xử lý", photo: "Ảnh kết quả",
    photoHelp: "Tối đa {n} ảnh, được thu nhỏ trước khi gửi.",
    assign: "Giao thủ công", markDuplicate: "Đánh dấu trùng", duplicateOf: "Mã phản ánh gốc",
    recategorize: "Đổi lĩnh vực", toCategory: "Lĩnh vực đúng", suggested: "{category} ({pct}%)",
    disputed: "Mô hình cho rằng lĩnh vực đã chọn có thể sai: ", a_recategorize: "Đổi lĩnh vực", a_reschedule: "Dời hạn xử lý",
    dismiss: "Loại bỏ", dismissReason: "Lý do loại bỏ", spam: "Tin rác", not_public_matter: "Không phải việc công",
    done: "Đã cập nhật: {what}.", movedAway: "Phản ánh đã chuyển khỏi đơn vị của bạn.", failed: "Không thực hiện được: {msg}",
    a_route: "Định tuyến", a_accept: "Nhận việc", a_start: "Bắt đầu xử lý", a_reject: "Từ chối",
    a_transfer: "Chuyển đơn vị", a_assign: "Giao thủ công", a_resolve: "Đã xử lý", a_dismiss: "Loại bỏ",
    a_duplicate: "Trùng lặp", a_escalate: "Quá hạn, báo cấp trên", by: "bởi {who}", to: "đến {agency}",
    version: "Phiên bản {v}", agencies: "Đơn vị", categories: "Lĩnh vực", areas: "Khu vực",
    kind: "Loại", priority: "Mức ưu tiên", deadline: "Thời hạn (giờ)", level: "Cấp", parent: "Thuộc",
    name: "Tên", code: "Mã", scopes: "Quyền", demo: "Demo", yes: "có", no: "không",
    mapLabel: "Bản đồ", mapNoTiles: "Bản đồ nền: ranh giới khu vực (không có máy chủ bản đồ).",
    loading: "Đang tải…", error: "Lỗi: {msg}", reportId: "Mã phản ánh", sending: "Đang gửi…"
  },
  en: {
    brand: "Field reports operations", skip: "Skip to content", logout: "Log out",
    login: "Log in", username: "Username", password: "Password", signIn: "Log in",
    loginHelp: "Agency staff, IOC operators and administrators.",
    badLogin: "Wrong username or password.", expired: "Your session has expired, please log in again.",
    queue: "Queue", triage: "IOC triage", jurisdiction: "Jurisdiction", accounts: "Accounts",
    queueOf: "Queue of {agency}", allAgencies: "all agencies",
    filters: "Filters", status: "Status", category: "Category", agency: "Agency", overdueOnly: "Overdue only",
    any: "Any", openStatuses: "Open", apply: "Filter", refresh: "Refresh",
    assigned: "Assigned", accepted: "Accepted", in_progress: "In progress", resolved: "Resolved",
    rejected: "Rejected", duplicate: "Duplicate", received: "Received", closed: "Closed",
    due: "Due", overdue: "Overdue", attempt: "Attempt", area: "Area", reason: "Routed by",
    created: "Created", report: "Report", none: "No reports.", count: "{n} reports",
    open: "Open", back: "Back to the queue", detail: "Report detail", location: "Location",
    description: "Description", address: "Address", supporters: "Supporters", photos: "Resident's photos",
    resolutionPhotos: "Resolution photos", timeline: "Timeline", actions: "Actions",
    noActions: "No action left for this status.", publicUnavailable: "Could not load the report's public view.",
    note: "Note", optional: "(optional)", accept: "Accept", start: "Start work",
    reject: "Reject (not ours)", rejectReason: "Reason for rejecting", transfer: "Transfer",
    toAgency: "To agency", resolve: "Resolve", resolveNote: "What was done", photo: "Result photo",
    photoHelp: "Up to {n} photos, resized before upload.",
    assign: "Assign by hand", markDuplicate: "Mark duplicate", duplicateOf: "Original report id",
    recategorize: "Change category", toCategory: "Right category", suggested: "{category} ({pct}%)",
    disputed: "The model thinks the chosen category may be wrong: ", a_recategorize: "Category changed", a_reschedule: "Due time moved",
    dismiss: "Dismiss", dismissReason: "Reason for dismissing", spam: "Spam", not_public_matter: "Not a public matter",
    done: "Updated: {what}.", movedAway: "The report has left your agency.", failed: "Could not do it: {msg}",
    a_route: "Routed", a_accept: "Accepted", a_start: "Work started", a_reject: "Rejected",
    a_transfer: "Transferred", a_assign: "Assigned by hand", a_resolve: "Resolved", a_dismiss: "Dismissed",
    a_duplicate: "Marked duplicate", a_escalate: "Overdue, escalated", by: "by {who}", to: "to {agency}",
    version: "Version {v}", agencies: "Agencies", categories: "Categories", areas: "Areas",
    kind: "Kind", priority: "Priority", deadline: "Deadline (hours)", level: "Level", parent: "Within",
    name: "Name", code: "Code", scopes: "Scopes", demo: "Demo", yes: "yes", no: "no",
    mapLabel: "Map", mapNoTiles: "Base map: area boundaries (no tile server).",
    loading: "Loading…", error: "Error: {msg}", reportId: "Report id", sending: "Sending…"
  }
};

const KEY = "fr.console.lang";

function initial() {
  const saved = localStorage.getItem(KEY);
  if (saved === "vi" || saved === "en") return saved;
  for (const l of navigator.languages || [navigator.language || "vi"]) {
    const base = String(l).toLowerCase().slice(0, 2);
    if (base === "vi" || base === "en") return base;
  }
  return "vi";
}

export const i18n = { lang: initial() };

export function setLang(lang) {
  i18n.lang = lang === "en" ? "en" : "vi";
  localStorage.setItem(KEY, i18n.lang);
}

export function t(key, vars) {
  let s = (T[i18n.lang] || T.vi)[key];
  if (s === undefined) s = T.vi[key] === undefined ? key : T.vi[key];
  Object.keys(vars || {}).forEach((k) => { s = s.replace("{" + k + "}", String(vars[k])); });
  return s;
}

export function named(names, fallback) {
  if (!names) return fallback || "";
  return names[i18n.lang] || names.vi || names.en || fallback || "";
}

export function locale() { return i18n.lang === "en" ? "en-GB" : "vi-VN"; }

export function when(iso) {
  if (!iso) return "—";
  return new Date(iso).toLocaleString(locale(), { dateStyle: "short", timeStyle: "short" });
}
