"""Find a top-level window's on-screen rectangle by its title (X11 via ctypes; Windows via user32).

Used by :class:`video.screen.ScreenSource` for "share this window". No extra dependency: libX11 is
already required by ``mss`` on Linux. macOS is not supported (use a region instead). Titles match
case-insensitively: an exact title wins over a substring; among equals, the largest visible window.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from dataclasses import dataclass
from typing import Any

from video.errors import CameraError

__all__ = ["WindowInfo", "find_window", "list_windows", "x11_screen"]


@dataclass(frozen=True)
class WindowInfo:
    """A visible window: title and absolute screen rectangle in pixels."""

    title: str
    left: int
    top: int
    width: int
    height: int


class _XWindowAttributes(ctypes.Structure):
    _fields_ = [
        ("x", ctypes.c_int),
        ("y", ctypes.c_int),
        ("width", ctypes.c_int),
        ("height", ctypes.c_int),
        ("border_width", ctypes.c_int),
        ("depth", ctypes.c_int),
        ("visual", ctypes.c_void_p),
        ("root", ctypes.c_ulong),
        ("class_", ctypes.c_int),
        ("bit_gravity", ctypes.c_int),
        ("win_gravity", ctypes.c_int),
        ("backing_store", ctypes.c_int),
        ("backing_planes", ctypes.c_ulong),
        ("backing_pixel", ctypes.c_ulong),
        ("save_under", ctypes.c_int),
        ("colormap", ctypes.c_ulong),
        ("map_installed", ctypes.c_int),
        ("map_state", ctypes.c_int),
        ("all_event_masks", ctypes.c_long),
        ("your_event_mask", ctypes.c_long),
        ("do_not_propagate_mask", ctypes.c_long),
        ("override_redirect", ctypes.c_int),
        ("screen", ctypes.c_void_p),
    ]


_IS_VIEWABLE = 2
_ERROR_HANDLER_T = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p)


def _ignore_x_error(_display: Any, _event: Any) -> int:
    return 0  # a window vanished while we looked at it: skip it, don't abort the process


_handler = _ERROR_HANDLER_T(_ignore_x_error)
_xlib: Any = None


def _load_xlib() -> Any:
    global _xlib
    if _xlib is not None:
        return _xlib
    path = ctypes.util.find_library("X11") or "libX11.so.6"
    try:
        lib = ctypes.cdll.LoadLibrary(path)
    except OSError as exc:
        raise CameraError(
            "Window capture needs libX11 (Debian: apt install libx11-6).", source="window"
        ) from exc
    ulong, vp, c_int = ctypes.c_ulong, ctypes.c_void_p, ctypes.c_int
    lib.XOpenDisplay.argtypes, lib.XOpenDisplay.restype = [ctypes.c_char_p], vp
    lib.XCloseDisplay.argtypes = [vp]
    lib.XDefaultRootWindow.argtypes, lib.XDefaultRootWindow.restype = [vp], ulong
    lib.XQueryTree.argtypes = [
        vp,
        ulong,
        ctypes.POINTER(ulong),
        ctypes.POINTER(ulong),
        ctypes.POINTER(ctypes.POINTER(ulong)),
        ctypes.POINTER(ctypes.c_uint),
    ]
    lib.XQueryTree.restype = c_int
    lib.XFetchName.argtypes, lib.XFetchName.restype = [vp, ulong, ctypes.POINTER(vp)], c_int
    lib.XFree.argtypes = [vp]
    lib.XGetWindowAttributes.argtypes = [vp, ulong, ctypes.POINTER(_XWindowAttributes)]
    lib.XGetWindowAttributes.restype = c_int
    lib.XTranslateCoordinates.argtypes = [
        vp,
        ulong,
        ulong,
        c_int,
        c_int,
        ctypes.POINTER(c_int),
        ctypes.POINTER(c_int),
        ctypes.POINTER(ulong),
    ]
    lib.XTranslateCoordinates.restype = c_int
    lib.XInternAtom.argtypes, lib.XInternAtom.restype = [vp, ctypes.c_char_p, c_int], ulong
    lib.XGetWindowProperty.argtypes = [
        vp,
        ulong,
        ulong,
        ctypes.c_long,
        ctypes.c_long,
        c_int,
        ulong,
        ctypes.POINTER(ulong),
        ctypes.POINTER(c_int),
        ctypes.POINTER(ulong),
        ctypes.POINTER(ulong),
        ctypes.POINTER(vp),
    ]
    lib.XGetWindowProperty.restype = c_int
    lib.XSetErrorHandler.argtypes, lib.XSetErrorHandler.restype = [vp], vp
    lib.XDefaultScreen.argtypes, lib.XDefaultScreen.restype = [vp], c_int
    for fn in (lib.XDisplayWidth, lib.XDisplayHeight, lib.XDefaultDepth):
        fn.argtypes, fn.restype = [vp, c_int], c_int
    _xlib = lib
    return lib


def _x11_title(lib: Any, dpy: int, win: int, net_wm_name: int, utf8: int) -> str:
    actual_type, fmt = ctypes.c_ulong(), ctypes.c_int()
    nitems, after, data = ctypes.c_ulong(), ctypes.c_ulong(), ctypes.c_void_p()
    status = lib.XGetWindowProperty(
        dpy,
        win,
        net_wm_name,
        0,
        1024,
        0,
        utf8,
        ctypes.byref(actual_type),
        ctypes.byref(fmt),
        ctypes.byref(nitems),
        ctypes.byref(after),
        ctypes.byref(data),
    )
    if status == 0 and data.value:
        try:
            if nitems.value and fmt.value == 8:
                return ctypes.string_at(data.value, nitems.value).decode("utf-8", "replace")
        finally:
            lib.XFree(data)
    name = ctypes.c_void_p()
    if lib.XFetchName(dpy, win, ctypes.byref(name)) and name.value:
        try:
            return ctypes.string_at(name.value).decode("latin-1")
        finally:
            lib.XFree(name)
    return ""


def _list_x11(display: str | None) -> list[WindowInfo]:
    lib = _load_xlib()
    dpy = lib.XOpenDisplay(display.encode() if display else None)
    if not dpy:
        raise CameraError(
            f"Cannot open the X display {display or '$DISPLAY'}: window capture needs an X11 "
            "session (on Wayland, share a screen region instead).",
            source="window",
        )
    lib.XSetErrorHandler(ctypes.cast(_handler, ctypes.c_void_p))
    try:
        root = lib.XDefaultRootWindow(dpy)
        net_wm_name = lib.XInternAtom(dpy, b"_NET_WM_NAME", 0)
        utf8 = lib.XInternAtom(dpy, b"UTF8_STRING", 0)
        found: list[WindowInfo] = []
        stack = [(root, 0)]
        while stack:
            win, depth = stack.pop()
            r, p = ctypes.c_ulong(), ctypes.c_ulong()
            children = ctypes.POINTER(ctypes.c_ulong)()
            count = ctypes.c_uint()
            if not lib.XQueryTree(
                dpy,
                win,
                ctypes.byref(r),
                ctypes.byref(p),
                ctypes.byref(children),
                ctypes.byref(count),
            ):
                continue
            kids = [children[i] for i in range(count.value)]
            if children:
                lib.XFree(children)
            for kid in kids:
                attrs = _XWindowAttributes()
                if not lib.XGetWindowAttributes(dpy, kid, ctypes.byref(attrs)):
                    continue
                if attrs.map_state != _IS_VIEWABLE or attrs.width < 2 or attrs.height < 2:
                    continue
                title = _x11_title(lib, dpy, kid, net_wm_name, utf8)
                if title:
                    x, y, child = ctypes.c_int(), ctypes.c_int(), ctypes.c_ulong()
                    lib.XTranslateCoordinates(
                        dpy, kid, root, 0, 0, ctypes.byref(x), ctypes.byref(y), ctypes.byref(child)
                    )
                    found.append(WindowInfo(title, x.value, y.value, attrs.width, attrs.height))
                elif depth < 3:  # reparenting window managers put the titled client inside
                    stack.append((kid, depth + 1))
        return found
    finally:
        lib.XCloseDisplay(dpy)


def x11_screen(display: str | None = None) -> tuple[int, int, int] | None:
    """(width, height, depth) of the default screen of an X display, or None if unreachable."""
    lib = _load_xlib()
    dpy = lib.XOpenDisplay(display.encode() if display else None)
    if not dpy:
        return None
    try:
        screen = lib.XDefaultScreen(dpy)
        return (
            int(lib.XDisplayWidth(dpy, screen)),
            int(lib.XDisplayHeight(dpy, screen)),
            int(lib.XDefaultDepth(dpy, screen)),
        )
    finally:
        lib.XCloseDisplay(dpy)


def _list_win32() -> list[WindowInfo]:  # pragma: no cover - not testable on this machine
    user32 = ctypes.WinDLL("user32")  # type: ignore[attr-defined,unused-ignore]
    found: list[WindowInfo] = []

    class RECT(ctypes.Structure):
        _fields_ = [
            ("left", ctypes.c_long),
            ("top", ctypes.c_long),
            ("right", ctypes.c_long),
            ("bottom", ctypes.c_long),
        ]

    def visit(hwnd: int, _lparam: int) -> bool:
        if not user32.IsWindowVisible(hwnd):
            return True
        length = user32.GetWindowTextLengthW(hwnd)
        if length == 0:
            return True
        buf = ctypes.create_unicode_buffer(length + 1)
        user32.GetWindowTextW(hwnd, buf, length + 1)
        rect = RECT()
        if user32.GetWindowRect(hwnd, ctypes.byref(rect)):
            w, h = rect.right - rect.left, rect.bottom - rect.top
            if w > 1 and h > 1:
                found.append(WindowInfo(buf.value, rect.left, rect.top, w, h))
        return True

    proc = ctypes.WINFUNCTYPE(  # type: ignore[attr-defined,unused-ignore]
        ctypes.c_bool, ctypes.c_void_p, ctypes.c_void_p
    )(visit)
    user32.EnumWindows(proc, 0)
    return found


def list_windows(display: str | None = None) -> list[WindowInfo]:
    """Visible titled top-level windows (X11 or Windows). Raises CameraError elsewhere."""
    if sys.platform == "win32":
        return _list_win32()
    if sys.platform == "darwin":
        raise CameraError(
            "Sharing a single window is not supported on macOS yet: share a screen or a region.",
            source="window",
        )
    return _list_x11(display)


def find_window(title: str, display: str | None = None) -> WindowInfo:
    """The window whose title equals (preferred) or contains ``title``, case-insensitively."""
    wanted = title.strip().lower()
    if not wanted:
        raise ValueError("window title must not be empty")
    windows = list_windows(display)
    exact = [w for w in windows if w.title.lower() == wanted]
    partial = [w for w in windows if wanted in w.title.lower()]
    matches = exact or partial
    if not matches:
        names = ", ".join(sorted({repr(w.title) for w in windows})[:8]) or "none"
        raise CameraError(
            f"No visible window titled {title!r} (visible windows: {names}). Open or un-minimise "
            "it, or pick another window; VoiceCam keeps looking.",
            source=f"window {title!r}",
        )
    return max(matches, key=lambda w: w.width * w.height)
