// The page's words, Vietnamese first, English on the toggle; and how instants, ages and
// percentages are written. Nothing here touches the DOM or MQTT.

const WORDS = {
  title: ["Bảng theo dõi trực tiếp", "Live dashboard"],
  login: ["Đăng nhập", "Log in"],
  logout: ["Đăng xuất", "Log out"],
  user: ["Tên đăng nhập (tài khoản máy chủ MQTT)", "User name (MQTT broker account)"],
  password: ["Mật khẩu", "Password"],
  login_hint: ["Mật khẩu chỉ được giữ trong phiên này của trình duyệt.",
    "The password is kept for this browser session only."],
  connecting: ["Đang kết nối…", "Connecting…"],
  connected: ["Đã kết nối", "Connected"],
  disconnected: ["Mất kết nối, đang thử lại…", "Disconnected, retrying…"],
  refused: ["Không đăng nhập được (sai tên hoặc mật khẩu, hoặc máy chủ không trả lời)",
    "Could not log in (wrong name or password, or the broker does not answer)"],
  units: ["Các đơn vị báo cáo", "Reporting units"],
  unit: ["Đơn vị", "Unit"],
  last_report: ["Báo cáo gần nhất", "Last report"],
  link: ["Kết nối", "Link"],
  online: ["trực tuyến", "online"],
  offline: ["ngoại tuyến", "offline"],
  unknown: ["chưa rõ", "unknown"],
  reporting: ["Đầy đủ / đúng hạn", "Complete / on time"],
  level: ["Cấp độ dịch", "Epidemic level"],
  coverage: ["Độ bao phủ", "Coverage"],
  firing: ["Cảnh báo", "Alerts"],
  whole: ["Toàn đơn vị", "Whole unit"],
  alerts: ["Cảnh báo chưa xử lý", "Firing alerts"],
  no_alerts: ["Không có cảnh báo nào chưa xử lý.", "No alert is firing."],
  feed: ["Diễn biến cảnh báo", "Alert transitions"],
  no_feed: ["Chưa có diễn biến nào từ khi mở trang.", "No transition since the page opened."],
  charts: ["Độ bao phủ theo thời gian", "Coverage over time"],
  no_charts: ["Chưa có chuỗi số liệu (máy tổng hợp chưa công bố series/…).",
    "No series yet (the aggregator has not published series/…)."],
  reports: ["Báo cáo tuần", "Weekly reports"],
  no_reports: ["Chưa có báo cáo tuần nào.", "No weekly report yet."],
  silences: ["Đang tạm tắt thông báo", "Silences in force"],
  no_silences: ["Không có.", "None."],
  since: ["từ", "since"],
  until: ["đến", "until"],
  by: ["bởi", "by"],
  ack: ["Xác nhận", "Acknowledge"],
  acked: ["đã xác nhận", "acknowledged"],
  silence: ["Tạm tắt", "Silence"],
  silenced: ["đã tạm tắt", "silenced"],
  unsilence: ["Bỏ tạm tắt", "End silence"],
  note: ["Ghi chú", "Note"],
  comment: ["Lý do", "Comment"],
  rule: ["Quy tắc (để trống = mọi quy tắc)", "Rule (empty = every rule)"],
  scope: ["Phạm vi (để trống = mọi đơn vị)", "Scope (empty = every unit)"],
  send: ["Gửi", "Send"],
  cancel: ["Huỷ", "Cancel"],
  sent: ["Đã gửi, chờ trả lời…", "Sent, waiting for the reply…"],
  reply_ok: ["Máy tổng hợp đã nhận", "The aggregator accepted"],
  reply_err: ["Máy tổng hợp từ chối", "The aggregator refused"],
  officer: ["cán bộ", "officer"],
  operator: ["chỉ xem", "read-only"],
  aggregator: ["Máy tổng hợp", "Aggregator"],
  fired: ["phát sinh", "fired"],
  resolved: ["đã khắc phục", "resolved"],
  repeat: ["nhắc lại", "repeat"],
  target: ["mục tiêu", "target"],
  deadline: ["hạn", "deadline"],
  ago: ["trước", "ago"],
  none: ["—", "—"],
  incomplete: ["chưa đủ số liệu", "incomplete data"],
  week: ["tuần", "week"],
  district_code: ["Mã đơn vị", "Unit code"],
};

const SEVERITY = {
  critical: ["nghiêm trọng", "critical", "✖"],
  warning: ["cảnh báo", "warning", "▲"],
  info: ["thông tin", "info", "ℹ"],
};

// Epidemic levels of Resolution 128/NQ-CP (Decision 218/QĐ-BYT): the words that go with the colour.
const LEVELS = {
  1: ["cấp độ 1 – nguy cơ thấp (màu xanh lá)", "level 1 – low risk (green)", "green"],
  2: ["cấp độ 2 – nguy cơ trung bình (màu vàng)", "level 2 – medium risk (yellow)", "yellow"],
  3: ["cấp độ 3 – nguy cơ cao (màu cam)", "level 3 – high risk (orange)", "orange"],
  4: ["cấp độ 4 – nguy cơ rất cao (màu đỏ)", "level 4 – very high risk (red)", "red"],
};

let lang = "vi";

export function setLang(l) { lang = l === "en" ? "en" : "vi"; }
export function getLang() { return lang; }
const idx = () => (lang === "en" ? 1 : 0);

export function t(key) {
  const w = WORDS[key];
  return w ? w[idx()] : key;
}

// A {vi, en} object from a payload, or a plain string.
export function pick(text) {
  if (text == null) return "";
  if (typeof text === "string") return text;
  return text[lang] || text.vi || text.en || "";
}

export function severityWord(sev) {
  const s = SEVERITY[sev];
  return s ? { icon: s[2], word: s[idx()] } : { icon: "•", word: String(sev || "") };
}

// The level's words and colour: the summary's own name when it has one, else ours.
export function levelWords(level) {
  if (!level || level.level == null) return null;
  const ours = LEVELS[level.level];
  const colour = level.colour || level.color || (ours && ours[2]) || "grey";
  const words = level.name && typeof level.name === "object" ? pick(level.name)
    : (ours ? ours[idx()] : "" + level.level);
  return { level: level.level, colour, words };
}

// "2022-08-14T16:02:00+07:00" → "14/08/2022 16:02", in the instant's own offset (the plan's).
export function instant(text) {
  const m = /^(\d{4})-(\d\d)-(\d\d)(?:T(\d\d):(\d\d))?/.exec(text || "");
  if (!m) return text || t("none");
  return m[4] ? `${m[3]}/${m[2]}/${m[1]} ${m[4]}:${m[5]}` : `${m[3]}/${m[2]}/${m[1]}`;
}

export function day(text) { return instant(text).slice(0, 10); }

export function age(fromText, nowMs) {
  const from = Date.parse(fromText || "");
  if (isNaN(from) || !nowMs) return "";
  const s = Math.max(0, Math.round((nowMs - from) / 1000));
  const [d, h, m] = [Math.floor(s / 86400), Math.floor(s / 3600) % 24, Math.floor(s / 60) % 60];
  const u = lang === "en" ? ["d", "h", "min"] : ["ngày", "giờ", "phút"];
  const parts = d ? `${d} ${u[0]} ${h} ${u[1]}` : h ? `${h} ${u[1]} ${m} ${u[2]}` : `${m} ${u[2]}`;
  return `${parts} ${t("ago")}`;
}

// As the alert texts write it: "71,5%", "100%" (vi), "71.5%", "100%" (en).
export function percent(fraction) {
  if (fraction == null || isNaN(fraction)) return t("none");
  const s = (fraction * 100).toFixed(1).replace(/\.0$/, "");
  return (lang === "vi" ? s.replace(".", ",") : s) + "%";
}
