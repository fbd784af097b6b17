// Vietnamese and English strings; the browser's language picks one, the switch remembers it.
const STRINGS = {
  vi: {
    title: 'Phản ánh hiện trường',
    skip: 'Bỏ qua, đến nội dung chính',
    navNew: 'Gửi phản ánh',
    navMap: 'Bản đồ công khai',
    language: 'Ngôn ngữ',
    newTitle: 'Gửi phản ánh mới',
    category: 'Lĩnh vực',
    chooseCategory: '— Chọn lĩnh vực —',
    required: 'bắt buộc',
    location: 'Vị trí',
    mapHint: 'Chạm vào bản đồ để đặt vị trí, hoặc dùng vị trí của bạn, hoặc nhập tọa độ.',
    mapLabel: 'Bản đồ: chạm để đặt vị trí phản ánh',
    useMyLocation: 'Dùng vị trí của tôi',
    useMapCentre: 'Dùng tâm bản đồ',
    lat: 'Vĩ độ',
    lon: 'Kinh độ',
    locationSet: 'Đã đặt vị trí: {lat}, {lon}',
    locationNone: 'Chưa chọn vị trí.',
    locating: 'Đang xác định vị trí…',
    locationDenied: 'Không lấy được vị trí của thiết bị. Hãy chạm vào bản đồ hoặc nhập tọa độ.',
    address: 'Địa chỉ hoặc mô tả nơi (không bắt buộc)',
    addressShort: 'Địa chỉ',
    description: 'Mô tả',
    photos: 'Ảnh (tối đa {n})',
    photosHint: 'Ảnh được thu nhỏ trên máy của bạn trước khi gửi.',
    removePhoto: 'Bỏ ảnh {n}',
    tooManyPhotos: 'Chỉ được gửi tối đa {n} ảnh.',
    badPhoto: 'Không đọc được tệp ảnh này.',
    email: 'Email để nhận cập nhật (không bắt buộc)',
    submit: 'Gửi phản ánh',
    sending: 'Đang gửi…',
    nearbyTitle: 'Phản ánh tương tự gần đây',
    nearbyHint: 'Nếu đây là cùng một sự việc, hãy ủng hộ (+1) thay vì gửi lại.',
    nearbyNone: '',
    support: '+1 Ủng hộ',
    supported: 'Đã ủng hộ',
    supporters: '{n} người ủng hộ',
    supportersLabel: 'Ủng hộ (+1)',
    mapOfReports: 'Bản đồ phản ánh (danh sách bên dưới có cùng nội dung)',
    mapOfReport: 'Vị trí phản ánh trên bản đồ',
    distance: 'cách {m} m',
    view: 'Xem',
    createdTitle: 'Đã gửi phản ánh',
    trackingText: 'Lưu liên kết này: đó là cách duy nhất để theo dõi, đánh giá hoặc mở lại phản ánh.',
    trackingLink: 'Liên kết theo dõi',
    copy: 'Sao chép',
    copied: 'Đã sao chép',
    openTracking: 'Mở trang theo dõi',
    another: 'Gửi phản ánh khác',
    fixErrors: 'Vui lòng kiểm tra lại: {fields}',
    errorGeneric: 'Có lỗi xảy ra ({code}). Vui lòng thử lại.',
    errorNetwork: 'Không kết nối được máy chủ. Vui lòng thử lại.',
    mapTitle: 'Bản đồ phản ánh',
    filters: 'Bộ lọc',
    all: 'Tất cả',
    status: 'Trạng thái',
    from: 'Từ ngày',
    to: 'Đến ngày',
    apply: 'Lọc',
    legend: 'Chú giải',
    listTitle: 'Danh sách phản ánh',
    listCount: '{n} phản ánh',
    more: 'Xem thêm',
    noReports: 'Không có phản ánh nào phù hợp.',
    tilesOff: 'Không tải được nền bản đồ; đang hiển thị ranh giới các khu vực.',
    reportTitle: 'Phản ánh',
    reportedAt: 'Gửi lúc',
    updatedAt: 'Cập nhật',
    expectedAt: 'Hạn xử lý',
    overdue: 'Quá hạn',
    agency: 'Đơn vị xử lý',
    notes: 'Ghi chú của đơn vị',
    coordinates: 'Tọa độ',
    timeline: 'Diễn biến',
    live: 'Trang tự cập nhật khi trạng thái thay đổi.',
    statusChanged: 'Trạng thái mới: {status}',
    rateTitle: 'Đánh giá kết quả',
    rating: 'Mức độ hài lòng',
    stars: '{n} sao',
    comment: 'Nhận xét (không bắt buộc)',
    sendRating: 'Gửi đánh giá',
    rated: 'Cảm ơn bạn đã đánh giá: {n}/5.',
    reopenTitle: 'Chưa được giải quyết?',
    reason: 'Lý do mở lại',
    sendReopen: 'Mở lại phản ánh',
    notFound: 'Không tìm thấy phản ánh này.',
    badToken: 'Liên kết theo dõi không hợp lệ.',
    'status.received': 'Đã tiếp nhận',
    'status.assigned': 'Đã chuyển đơn vị',
    'status.in_progress': 'Đang xử lý',
    'status.resolved': 'Đã xử lý',
    'status.closed': 'Đã đóng',
    'status.duplicate': 'Trùng lặp',
    'status.rejected': 'Từ chối',
    'event.report.created': 'Đã gửi',
    'event.report.assigned': 'Chuyển cho đơn vị',
    'event.report.accepted': 'Đơn vị đã nhận',
    'event.report.in_progress': 'Bắt đầu xử lý',
    'event.report.resolved': 'Đã xử lý xong',
    'event.report.rejected': 'Đơn vị từ chối',
    'event.report.duplicate': 'Đánh dấu trùng lặp',
    'event.report.escalated': 'Quá hạn, đã báo cấp trên',
    'event.report.rated': 'Người dân đã đánh giá',
    'event.report.closed': 'Đã đóng',
    'event.report.reopened': 'Đã mở lại',
    'event.report.supported': 'Có người ủng hộ',
  },
  en: {
    title: 'Field reports',
    skip: 'Skip to main content',
    navNew: 'Report a problem',
    navMap: 'Public map',
    language: 'Language',
    newTitle: 'Report a problem',
    category: 'Category',
    chooseCategory: '— Choose a category —',
    required: 'required',
    location: 'Location',
    mapHint: 'Tap the map to set the location, use your device location, or type coordinates.',
    mapLabel: 'Map: tap to set the location of the problem',
    useMyLocation: 'Use my location',
    useMapCentre: 'Use map centre',
    lat: 'Latitude',
    lon: 'Longitude',
    locationSet: 'Location set: {lat}, {lon}',
    locationNone: 'No location chosen yet.',
    locating: 'Finding your location…',
    locationDenied: 'Could not get the device location. Tap the map or type coordinates.',
    address: 'Address or description of the place (optional)',
    addressShort: 'Address',
    description: 'Description',
    photos: 'Photos (up to {n})',
    photosHint: 'Photos are made smaller on your device before they are sent.',
    removePhoto: 'Remove photo {n}',
    tooManyPhotos: 'At most {n} photos can be sent.',
    badPhoto: 'This file could not be read as an image.',
    email: 'Email for updates (optional)',
    submit: 'Send report',
    sending: 'Sending…',
    nearbyTitle: 'Similar reports nearby',
    nearbyHint: 'If it is the same problem, support it (+1) instead of reporting it again.',
    nearbyNone: '',
    support: '+1 Support',
    supported: 'Supported',
    supporters: '{n} supporters',
    supportersLabel: 'Supporters (+1)',
    mapOfReports: 'Map of reports (the list below holds the same reports)',
    mapOfReport: 'Where the report is on the map',
    distance: '{m} m away',
    view: 'View',
    createdTitle: 'Report sent',
    trackingText: 'Keep this link: it is the only way to follow, rate or reopen your report.',
    trackingLink: 'Tracking link',
    copy: 'Copy',
    copied: 'Copied',
    openTracking: 'Open the tracking page',
    another: 'Report another problem',
    fixErrors: 'Please check: {fields}',
    errorGeneric: 'Something went wrong ({code}). Please try again.',
    errorNetwork: 'Could not reach the server. Please try again.',
    mapTitle: 'Map of reports',
    filters: 'Filters',
    all: 'All',
    status: 'Status',
    from: 'From',
    to: 'To',
    apply: 'Filter',
    legend: 'Legend',
    listTitle: 'List of reports',
    listCount: '{n} reports',
    more: 'Show more',
    noReports: 'No report matches.',
    tilesOff: 'Map tiles could not be loaded; showing the area boundaries.',
    reportTitle: 'Report',
    reportedAt: 'Reported',
    updatedAt: 'Updated',
    expectedAt: 'Due',
    overdue: 'Overdue',
    agency: 'Agency',
    notes: 'Agency note',
    coordinates: 'Coordinates',
    timeline: 'Timeline',
    live: 'This page updates itself when the status changes.',
    statusChanged: 'New status: {status}',
    rateTitle: 'Rate the result',
    rating: 'How satisfied are you?',
    stars: '{n} stars',
    comment: 'Comment (optional)',
    sendRating: 'Send rating',
    rated: 'Thank you for your rating: {n}/5.',
    reopenTitle: 'Not fixed?',
    reason: 'Why reopen it',
    sendReopen: 'Reopen the report',
    notFound: 'This report was not found.',
    badToken: 'This tracking link is not valid.',
    'status.received': 'Received',
    'status.assigned': 'Assigned',
    'status.in_progress': 'In progress',
    'status.resolved': 'Resolved',
    'status.closed': 'Closed',
    'status.duplicate': 'Duplicate',
    'status.rejected': 'Rejected',
    'event.report.created': 'Reported',
    'event.report.assigned': 'Assigned to an agency',
    'event.report.accepted': 'Accepted by the agency',
    'event.report.in_progress': 'Work started',
    'event.report.resolved': 'Resolved',
    'event.report.rejected': 'Rejected by the agency',
    'event.report.duplicate': 'Marked as a duplicate',
    'event.report.escalated': 'Overdue, escalated',
    'event.report.rated': 'Rated by the resident',
    'event.report.closed': 'Closed',
    'event.report.reopened': 'Reopened',
    'event.report.supported': 'Supported',
  },
};

export const LANGS = ['vi', 'en'];
const KEY = 'fieldreports.lang';

function initial() {
  const saved = localStorage.getItem(KEY);
  if (LANGS.includes(saved)) return saved;
  for (const l of navigator.languages || [navigator.language || 'vi']) {
    const base = String(l).toLowerCase().slice(0, 2);
    if (LANGS.includes(base)) return base;
  }
  return 'vi';
}

let lang = initial();
const listeners = [];

export const getLang = () => lang;

export function setLang(next) {
  if (!LANGS.includes(next) || next === lang) return;
  lang = next;
  localStorage.setItem(KEY, next);
  listeners.forEach((fn) => fn(next));
}

export const onLang = (fn) => listeners.push(fn);

export function t(key, vars = {}) {
  const s = STRINGS[lang][key] ?? STRINGS.en[key] ?? key;
  return s.replace(/\{(\w+)\}/g, (_, k) => String(vars[k] ?? ''));
}

export const statusName = (s) => t(`status.${s}`);

// Fills every [data-i18n] (text) and [data-i18n-attr="attr:key"] in `root`.
export function translate(root = document) {
  document.documentElement.lang = lang;
  root.querySelectorAll('[data-i18n]').forEach((el) => {
    el.textContent = t(el.dataset.i18n, el.dataset.i18nN ? { n: el.dataset.i18nN } : {});
  });
  root.querySelectorAll('[data-i18n-attr]').forEach((el) => {
    for (const pair of el.dataset.i18nAttr.split(';')) {
      const [attr, key] = pair.split(':');
      el.setAttribute(attr, t(key));
    }
  });
}

export function formatTime(iso) {
  if (!iso) return '—';
  const locale = lang === 'vi' ? 'vi-VN' : 'en-GB';
  return new Date(iso).toLocaleString(locale, { dateStyle: 'medium', timeStyle: 'short' });
}
