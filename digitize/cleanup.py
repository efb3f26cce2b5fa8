"""Image clean-up before OCR (OpenCV): seal/signature ink removal, grayscale, deskew."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

MAX_SKEW_DEGREES = 10.0


@dataclass(frozen=True)
class CleanPage:
    """The image Tesseract reads (straightened, binarized), and the map from original to cleaned pixels."""

    gray: np.ndarray
    skew_degrees: float
    matrix: np.ndarray  # 2x3, original -> cleaned

    def to_original(self) -> np.ndarray:
        """The 2x3 affine map from cleaned pixels back to the original image."""
        return cv2.invertAffineTransform(self.matrix)


def suppress_coloured_ink(rgb: np.ndarray) -> np.ndarray:
    """Grayscale of ``rgb`` with saturated red/blue ink (seals, signatures) turned to paper white."""
    hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    saturation, value = hsv[..., 1], hsv[..., 2]
    ink = (saturation > 90) & (value > 50)
    if ink.any():
        paper = int(np.percentile(gray, 90))
        gray = gray.copy()
        gray[ink] = paper
    return gray


def estimate_skew(gray: np.ndarray) -> float:
    """Skew of the text lines in degrees (positive: counter-clockwise), by projection-profile search."""
    scale = 1000.0 / max(gray.shape)
    small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else gray
    _, binary = cv2.threshold(small, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    ys, xs = np.nonzero(binary)
    if len(xs) < 200:
        return 0.0
    xs = xs.astype(np.float64) - small.shape[1] / 2
    ys = ys.astype(np.float64) - small.shape[0] / 2
    bins = int(small.shape[0] * 1.5)

    def sharpness(angle: float) -> float:
        theta = np.deg2rad(angle)
        rotated = ys * np.cos(theta) + xs * np.sin(theta)
        hist = np.bincount((rotated + bins / 2).astype(np.int64).clip(0, bins - 1), minlength=bins)
        return float(np.square(np.diff(hist.astype(np.float64))).sum())

    coarse = np.arange(-MAX_SKEW_DEGREES, MAX_SKEW_DEGREES + 0.01, 0.5)
    best = max(coarse, key=sharpness)
    fine = np.arange(best - 0.5, best + 0.51, 0.1)
    return float(round(max(fine, key=sharpness), 2))


def binarize(gray: np.ndarray) -> np.ndarray:
    """Global Otsu threshold: on these scans it reads italic digits better than gray and is faster."""
    _, binary = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return binary


def clean(rgb: np.ndarray) -> CleanPage:
    """Prepare a page for OCR: remove seal/signature ink, grayscale, straighten, binarize."""
    gray = suppress_coloured_ink(rgb)
    angle = estimate_skew(gray)
    h, w = gray.shape
    if abs(angle) < 0.15:
        return CleanPage(binarize(gray), 0.0, np.float64([[1, 0, 0], [0, 1, 0]]))
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), -angle, 1.0)
    straight = cv2.warpAffine(gray, matrix, (w, h), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
    return CleanPage(binarize(straight), angle, matrix)
