"""Every sentence the kiosk shows or speaks, in Chinese and English. Chinese is the default."""

from __future__ import annotations

import re

from halldomain import ratings

TEXTS: dict[str, tuple[str, str]] = {
    "home.title": ("请选择要办理的业务", "Choose a service"),
    "home.waiting": ("等候 {n} 人", "{n} waiting"),
    "home.closed": ("暂停取号", "closed now"),
    "home.real_name": ("需刷身份证", "ID card needed"),
    "hall.generic": ("政务服务中心", "Government Service Centre"),
    "card.label": ("身份证", "ID card"),
    "btn.lookup": ("查询我的号", "Find my number"),
    "btn.guide": ("办事指南", "Service guides"),
    "btn.elder_is_off": ("长辈模式：未开启", "Elder mode: off"),
    "btn.elder_is_on": ("长辈模式：已开启", "Elder mode: on"),
    "elder.turn_on": ("点此开启：大字、语音播报", "Tap for large text and spoken help"),
    "elder.turn_off": ("点此关闭", "Tap to turn off"),
    "btn.lang": ("English", "中文"),
    "btn.home": ("返回首页", "Home"),
    "btn.back": ("返回", "Back"),
    "btn.cancel": ("取消", "Cancel"),
    "btn.prev": ("上一页", "Previous"),
    "btn.next": ("下一页", "Next"),
    "btn.done": ("完成", "Done"),
    "btn.rate": ("评价本机", "Rate this kiosk"),
    "btn.take": ("取号", "Take a number"),
    "btn.submit": ("提交评价", "Submit"),
    "page": ("第 {page}/{pages} 页", "Page {page}/{pages}"),
    "swipe.title": ("请刷身份证", "Please place your ID card"),
    "swipe.hint": (
        "请将身份证放在下方感应区，不要移动",
        "Place your ID card on the reader below and hold it still",
    ),
    "swipe.for": ("办理：{service}", "Service: {service}"),
    "issuing.title": ("正在出票，请稍候", "Printing your ticket…"),
    "ticket.title": ("请取走您的号票", "Please take your ticket"),
    "ticket.number": ("您的号码", "Your number"),
    "ticket.ahead": ("前面还有 {n} 人", "{n} ahead of you"),
    "ticket.where": ("办理地点：{where}", "Where: {where}"),
    "ticket.wait": ("预计等候 {low}–{high} 分钟", "Estimated wait {low}–{high} min"),
    "ticket.closing": (
        "预计等候可能超过今天的办理截止时间 {at}，如不能等候请咨询服务台",
        "The wait may run past today's closing time ({at}). Ask at the service desk if you "
        "cannot wait.",
    ),
    "ticket.watch": ("请留意叫号屏和语音叫号", "Watch the display and listen for your number"),
    "ticket.priority": ("{label}优先", "Priority: {label}"),
    "ticket.no_paper": (
        "打印机暂时无法出票，您的号码已登记。请拍下或记住上方号码，留意叫号，或到服务台说明号码。",
        "The printer cannot print now, but your number is registered. Take a photo of it or "
        "remember it, and watch for your call or tell the service desk.",
    ),
    "ticket.scan": ("扫码查看进度、办结后评价", "Scan to follow your place and rate us"),
    "message.title": ("暂时无法取号", "Cannot issue a ticket"),
    "message.duplicate": ("您已有排队号", "You already have a number"),
    "message.duplicate_hint": (
        "同一业务每人只能有一个有效号码。点击“查询我的号”并刷身份证可查看您的号码和排队进度。",
        "You can hold one number per service. Tap “Find my number” and place your ID card "
        "to see it and your place in the queue.",
    ),
    "message.generic": (
        "暂时无法取号，请到服务台咨询工作人员",
        "A ticket cannot be issued now. Please ask at the service desk.",
    ),
    "guide.list": ("请选择要查看的办事指南", "Choose a service guide"),
    "guide.title": ("办事指南：{service}", "Guide: {service}"),
    "guide.en_generic": (
        "暂无办事指南，请咨询工作人员",
        "This guide is available in Chinese only. Please ask at the service desk which "
        "documents to bring (usually your ID card and the papers for your case).",
    ),
    "guide.empty": ("暂无办事指南，请咨询工作人员", "No guide yet; please ask the staff"),
    "lookup.title": ("查询我的号", "Find my number"),
    "lookup.hint": (
        "请刷身份证，或将号票上的二维码对准摄像头",
        "Place your ID card, or hold your ticket's QR code up to the camera",
    ),
    "lookup.none": ("今天没有查到您的排队号", "No active number found for today"),
    "lookup.none_hint": (
        "如已取号，请核对证件或咨询服务台工作人员",
        "If you have taken a number, check your card or ask at the service desk",
    ),
    "thanks.hint": ("您的评价将帮助我们改进服务", "Your rating helps us improve"),
    "lookup.found": ("您今天的排队号", "Your numbers today"),
    "lookup.unreadable": ("无法识别该二维码，请重试", "This QR code cannot be read; try again"),
    "lookup.offline": (
        "网络繁忙，请稍后再查或咨询工作人员",
        "Busy network; try again later or ask staff",
    ),
    "status.waiting": ("等候中", "waiting"),
    "status.called": ("已叫号，请到 {window} 号窗口", "called: go to window {window}"),
    "status.called_at": ("已叫号，请到 {guide}", "called: go to window {window}"),
    "status.no_show": ("已过号", "missed"),
    "status.done": ("已办结", "done"),
    "status.cancelled": ("已取消", "cancelled"),
    "status.expired": ("已过期", "expired"),
    "rate.title": ("请您评价本次自助服务", "How was this kiosk?"),
    "rate.reasons": (
        "请选择不满意的原因（至少一项）",
        "Why were you unhappy? (choose at least one)",
    ),
    "thanks.title": ("感谢您的评价", "Thank you for your rating"),
    "btn.checkin": ("预约签到", "Check in"),
    "btn.ordinary": ("取普通号", "Take a number"),
    "btn.retry": ("重新签到", "Try again"),
    "checkin.title": ("预约签到", "Appointment check-in"),
    "checkin.hint": (
        "请刷身份证，或将预约二维码对准摄像头",
        "Place your ID card, or hold your booking's QR code up to the camera",
    ),
    "checkin.checking": ("正在核验预约，请稍候", "Checking your appointment…"),
    "checkin.ok": ("预约签到成功", "Checked in for your appointment"),
    "checkin.late": (
        "已超过预约时段，按普通号排队",
        "Past your appointment time: you queue as a walk-in",
    ),
    "checkin.again": (
        "您已签到过，这是您的号码，号票不再重复打印。请拍下或记住号码，留意叫号。",
        "You have already checked in. This is your number; it is not printed again. "
        "Take a photo of it or remember it, and watch for your call.",
    ),
    "checkin.too_early": ("还未到签到时间", "Too early to check in"),
    "checkin.come_back": ("请于 {at} 后再来签到", "Check-in opens at {at}. Please come back then."),
    "checkin.not_yet": (
        "签到在预约时段开始前不久开放",
        "Check-in for your appointment has not opened yet.",
    ),
    "checkin.come_back_hint": (
        "请于 {at} 后再来，届时刷身份证或扫描预约二维码签到",
        "Come back after {at}, then place your ID card or scan your booking's QR code",
    ),
    "checkin.too_early_hint": (
        "请在接近预约时段时再来，刷身份证或扫描预约二维码签到",
        "Come back closer to your appointment time and check in with your ID card or QR code",
    ),
    "checkin.missed": ("预约时段已过", "Your appointment time has passed"),
    "checkin.missed_why": ("预约时段已过，请直接取号", "This booking is now a missed appointment."),
    "checkin.none": ("没有找到可签到的预约", "No appointment to check in"),
    "checkin.none_why": ("没有找到您今天的预约", "No appointment was found for you today."),
    "checkin.ordinary_hint": (
        "您可以返回首页取普通号排队，或到服务台咨询工作人员",
        "You can take an ordinary number on the home screen, or ask at the service desk",
    ),
    "checkin.invalid_qr": (
        "这不是预约二维码。请出示预约短信或页面中的二维码，或刷身份证",
        "This is not a booking QR code. Show the QR code of your booking, or place your ID card.",
    ),
    "checkin.offline": ("暂时无法核验预约", "Cannot verify your appointment now"),
    "checkin.offline_why": (
        "网络中断，暂时无法核验您的预约",
        "The network is down, so your booking cannot be checked.",
    ),
    "checkin.offline_hint": (
        "请返回首页取普通号，或到服务台请工作人员为您签到",
        "Take an ordinary number on the home screen, or ask staff at the service desk to "
        "check you in",
    ),
    "checkin.refused": ("暂时无法签到", "Cannot check in"),
    "checkin.refused_why": (
        "请到服务台咨询工作人员",
        "Please ask staff at the service desk.",
    ),
    "checkin.desk_hint": (
        "如有疑问，请到服务台咨询工作人员",
        "If in doubt, ask at the service desk",
    ),
    "idle.warning": (
        "{s} 秒后将返回首页，点击屏幕任意处继续",
        "Returning home in {s} s. Tap anywhere to stay",
    ),
}

# Check-in refusals (docs/APPOINTMENTS.md) by what the citizen should do next.
CHECKIN_NOT_FOUND = {
    "no_appointment_today",
    "appointment_not_found",
    "not_today",
    "appointment_cancelled",
    "invalid_qr",
}
CHECKIN_EN = {
    "appointment_not_found": "This booking QR code was not recognised. Try your ID card.",
    "not_today": "Your appointment is on another day.",
    "appointment_cancelled": "This appointment was cancelled.",
    "duplicate_active_ticket": "You already hold a number for this service.",
    "booking_blocked": "Booking is blocked after missed appointments.",
    "appointments_disabled": "This hall does not take appointments.",
    "outside_hours": "This service is closed now.",
}

# Issue refusals in English (the server's messages are Chinese only).
ISSUE_EN = {
    "duplicate_active_ticket": "You already hold a number for this service today.",
    "id_card_required": "This service needs your ID card.",
    "outside_hours": "This service is not taking numbers now.",
    "quota_exhausted": "No more numbers for this service today.",
    "card_required": "This service needs your ID card.",
    "offline_too_long": "Self-service is paused; please ask at the service desk.",
    "no_numbers": "No numbers available; please ask at the service desk.",
}

# Priority classes in English (the hall config labels them in Chinese only).
CLASSES_EN = {
    "elderly": "elderly",
    "disabled": "disability",
    "pregnant": "pregnancy",
    "military": "military",
    "appointment": "appointment",
}

DIGITS_ZH = "零一二三四五六七八九"
_CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]")


def has_cjk(text: str) -> bool:
    """Whether text holds Chinese characters or full-width punctuation (not for English mode)."""
    return bool(_CJK.search(text))


def priority_text(priority: str, label: str, lang: str = "zh") -> str:
    """ "老年人优先" for a priority ticket, "" for an ordinary one (whose label is "普通")."""
    if not priority or priority == "ordinary":
        return ""
    if lang == "en":
        return t("ticket.priority", "en", label=CLASSES_EN.get(priority, "priority"))
    label = label or priority
    return label if label.endswith("优先") else t("ticket.priority", "zh", label=label)


def t(key: str, lang: str = "zh", **kw: object) -> str:
    zh, en = TEXTS[key]
    return (en if lang == "en" else zh).format(**kw)


def level_label(level: int, lang: str = "zh") -> str:
    """A rating level's label (halldomain/ratings.py, the same on every channel)."""
    return ratings.level_label(level, lang)


def reason_label(reason: ratings.Reason, lang: str = "zh") -> str:
    return reason.label_en if lang == "en" else reason.label


def spoken_number(number: str, lang: str = "zh") -> str:
    """`A023` → `A 零 二 三`: ticket numbers are read digit by digit, never as a quantity."""
    if lang == "en":
        return " ".join(number)
    return " ".join(DIGITS_ZH[int(c)] if c.isdigit() else c for c in number)
