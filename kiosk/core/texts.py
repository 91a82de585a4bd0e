"""Every sentence the kiosk shows or speaks, in Chinese and English. Chinese is the default."""

from __future__ import annotations

TEXTS: dict[str, tuple[str, str]] = {
    "home.title": ("请选择要办理的业务", "Choose a service"),
    "home.waiting": ("等候 {n} 人", "{n} waiting"),
    "home.wait": ("约 {low}–{high} 分钟", "about {low}–{high} min"),
    "home.wait_none": ("无需等候", "no wait"),
    "home.closed": ("暂停取号", "closed now"),
    "home.real_name": ("需刷身份证", "ID card needed"),
    "btn.lookup": ("查询我的号", "Find my number"),
    "btn.guide": ("办事指南", "Service guides"),
    "btn.elder_on": ("长辈模式", "Elder mode"),
    "btn.elder_off": ("标准模式", "Standard mode"),
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
    "ticket.wait": ("预计等候 {low}–{high} 分钟", "Estimated wait {low}–{high} min"),
    "ticket.watch": ("请留意叫号屏和语音叫号", "Watch the display and listen for your number"),
    "ticket.priority": ("{label}优先", "Priority: {label}"),
    "ticket.no_paper": (
        "打印机暂时无法出票，您的号码已登记。请拍下或记住上方号码，留意叫号，或到服务台说明号码。",
        "The printer cannot print now, but your number is registered. Take a photo of it or "
        "remember it, and watch for your call or tell the service desk.",
    ),
    "ticket.scan": ("扫码查看排队进度", "Scan to follow your place"),
    "message.title": ("暂时无法取号", "Cannot issue a ticket"),
    "guide.list": ("请选择要查看的办事指南", "Choose a service guide"),
    "guide.title": ("办事指南：{service}", "Guide: {service}"),
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
    "idle.warning": (
        "{s} 秒后将返回首页，点击屏幕任意处继续",
        "Returning home in {s} s. Tap anywhere to stay",
    ),
}

LEVELS: dict[int, tuple[str, str]] = {
    5: ("非常满意", "Very satisfied"),
    4: ("满意", "Satisfied"),
    3: ("基本满意", "Fairly satisfied"),
    2: ("不满意", "Unsatisfied"),
    1: ("非常不满意", "Very unsatisfied"),
}

# 差评 reasons for the kiosk channel (GB/T 39734-2020 asks for at least one with level ≤ 2).
REASONS: dict[str, tuple[str, str]] = {
    "hard_to_use": ("操作复杂，不会用", "Hard to use"),
    "slow": ("反应慢、等待久", "Slow"),
    "print_failed": ("号票打印不出来", "Ticket did not print"),
    "card_failed": ("刷身份证不成功", "ID card not read"),
    "unclear": ("文字看不清、听不清", "Hard to read or hear"),
    "wrong_info": ("信息不准确", "Wrong information"),
}

DIGITS_ZH = "零一二三四五六七八九"


def t(key: str, lang: str = "zh", **kw: object) -> str:
    zh, en = TEXTS[key]
    return (en if lang == "en" else zh).format(**kw)


def level_label(level: int, lang: str = "zh") -> str:
    zh, en = LEVELS[level]
    return en if lang == "en" else zh


def reason_label(code: str, lang: str = "zh") -> str:
    zh, en = REASONS[code]
    return en if lang == "en" else zh


def spoken_number(number: str, lang: str = "zh") -> str:
    """`A023` → `A 零 二 三`: ticket numbers are read digit by digit, never as a quantity."""
    if lang == "en":
        return " ".join(number)
    return " ".join(DIGITS_ZH[int(c)] if c.isdigit() else c for c in number)
