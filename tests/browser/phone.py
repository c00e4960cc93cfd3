"""Opening pages as a phone does: 390×844 at 2× with touch, console errors collected."""

from __future__ import annotations

from playwright.sync_api import Browser, ConsoleMessage, Page, ViewportSize

PHONE: ViewportSize = {"width": 390, "height": 844}


def size_chip(size: str) -> str:
    """A product card's size chip, found as a shopper finds it: by the size its radio picks."""
    return f'label.pick:has(input[name=size][value="{size}"])'


def open_page(browser: Browser, url: str, errors: list[str]) -> Page:
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    page = context.new_page()

    def record(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(message.text)

    page.on("console", record)
    response = page.goto(url)
    assert response is not None and response.status == 200
    return page
