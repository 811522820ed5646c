"""Face detection, 5-point landmarks and alignment to one canonical template.

With the `real` extra (dlib-bin + face-recognition-models) faces are found by
dlib's HOG detector, landmarked by its 5-point shape predictor (the two corners
of each eye and the base of the nose) and warped by a least-squares similarity
transform onto TEMPLATE_150: the mean positions of those points in dlib's own
150 x 150 face chips (padding 0.25), measured on real photos. So a crop made here
with the default margin is exactly what dlib's face-recognition network expects,
which is what the real-face judge relies on.

Without dlib, an OpenCV Haar cascade (shipped with OpenCV) finds the face box
and the crop is a square around it: no landmarks, no rotation. The aligner says
so in its `name`, and preparation summaries print it.

Models load from installed packages only; nothing is downloaded.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

# dlib 5-point order: image-right eye (outer, inner), image-left eye (outer, inner), nose base.
# Positions in a 150 x 150 dlib face chip with padding 0.25 (mean over CelebA photos).
TEMPLATE_150 = np.array([
    [109.95, 46.23], [88.80, 47.30], [36.36, 45.53], [58.14, 46.96], [74.29, 87.78],
])
DLIB_PADDING = 0.25  # the margin the template (and dlib's recognition network) uses
POINT_NAMES = ("right_eye_outer", "right_eye_inner", "left_eye_outer", "left_eye_inner", "nose_base")


def template(size: int, margin: float = DLIB_PADDING) -> np.ndarray:
    """The 5 canonical points in pixel coordinates of a `size` crop with `margin`.

    margin is dlib's padding: the face box (the template's unit square) grows by this
    fraction on every side; 0.25 reproduces dlib's chips, larger shows more hair and neck."""
    # pixel centres sit at integers, so pixel i covers [i - 0.5, i + 0.5)
    unit = (TEMPLATE_150 + 0.5) / 150 * (1 + 2 * DLIB_PADDING) - DLIB_PADDING  # in the unit face box
    return (unit + margin) / (1 + 2 * margin) * size - 0.5


def eye_centres(points: np.ndarray) -> np.ndarray:
    """(..., 5, 2) dlib points -> (..., 2, 2): image-left eye centre, image-right eye centre."""
    return np.stack([points[..., 2:4, :].mean(-2), points[..., 0:2, :].mean(-2)], -2)


def similarity_transform(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares similarity (rotation, uniform scale, translation) mapping src -> dst:
    a 2 x 3 matrix for cv2.warpAffine (Umeyama's closed form, no RANSAC: deterministic)."""
    src, dst = np.asarray(src, float), np.asarray(dst, float)
    mu_s, mu_d = src.mean(0), dst.mean(0)
    s, d = src - mu_s, dst - mu_d
    cov = d.T @ s / len(src)
    u, sig, vt = np.linalg.svd(cov)
    flip = np.diag([1.0, np.sign(np.linalg.det(u @ vt))])
    rot = u @ flip @ vt
    scale = np.trace(np.diag(sig) @ flip) / (s ** 2).sum(1).mean()
    m = np.zeros((2, 3))
    m[:, :2] = scale * rot
    m[:, 2] = mu_d - scale * rot @ mu_s
    return m


def _models_folder() -> Path | None:
    """face_recognition_models' folder of .dat files, found without importing the package
    (its __init__ needs pkg_resources, which new setuptools no longer ship)."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(list(spec.submodule_search_locations)[0]) / "models"
    return folder if folder.is_dir() else None


def dlib_available() -> bool:
    return importlib.util.find_spec("dlib") is not None and _models_folder() is not None


@dataclass
class Face:
    box: tuple[int, int, int, int]   # left, top, right, bottom in the photo
    points: np.ndarray | None        # (5, 2) dlib points in the photo, or None (OpenCV fallback)

    @property
    def area(self) -> int:
        return (self.box[2] - self.box[0]) * (self.box[3] - self.box[1])


@dataclass
class Aligned:
    crop: np.ndarray | None          # (size, size, 3) uint8 RGB, or None when skipped
    reason: str | None               # why it was skipped: "no face", "face too small (N px)"
    face: Face | None
    faces_found: int


class Aligner:
    """Find the largest face in an RGB photo and warp it onto the canonical template.

    size: crop side in pixels (64 or 128 in the course); margin: see template();
    min_face: faces whose box is narrower than this many pixels are skipped as too small;
    backend: "auto" (dlib if installed, else OpenCV), "dlib" or "opencv"."""

    def __init__(self, size: int = 64, margin: float = DLIB_PADDING, min_face: int = 40,
                 upsample: int = 1, detect_max_side: int = 1024, backend: str = "auto"):
        self.size, self.margin, self.min_face, self.upsample = size, margin, min_face, upsample
        self.detect_max_side = detect_max_side  # big photos are searched at this size (speed)
        if backend == "auto":
            backend = "dlib" if dlib_available() else "opencv"
        if backend == "dlib":
            if not dlib_available():
                raise ImportError("dlib alignment needs the `real` extra: pip install 'faceid-lab[real]' "
                                  "(dlib-bin and face-recognition-models)")
            import dlib  # why: optional (the `real` extra); the OpenCV fallback works without it

            self._detector = dlib.get_frontal_face_detector()
            self._predictor = dlib.shape_predictor(str(_models_folder() / "shape_predictor_5_face_landmarks.dat"))
            self.name = "dlib HOG detector + 5-point landmarks"
        elif backend == "opencv":
            self._cascade = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")
            self.name = ("OpenCV Haar cascade, box crop without landmarks (install the `real` extra for "
                         "dlib 5-point alignment)")
        else:
            raise ValueError(f"backend must be 'auto', 'dlib' or 'opencv', not {backend!r}")
        self.backend = backend

    def detect(self, rgb: np.ndarray) -> list[Face]:
        """All faces in a (H, W, 3) uint8 RGB photo."""
        if self.backend == "dlib":
            # search a downscaled copy of big photos; landmarks are found at full resolution
            scale = min(1.0, self.detect_max_side / max(rgb.shape[:2]))
            small = rgb if scale == 1.0 else cv2.resize(rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
            faces = []
            for rect in self._detector(small, self.upsample):
                box = tuple(int(round(v / scale)) for v in (rect.left(), rect.top(), rect.right(), rect.bottom()))
                faces.append(Face(box, self.landmarks_in_box(rgb, box)))
            return faces
        gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        boxes = self._cascade.detectMultiScale(gray, scaleFactor=1.1, minNeighbors=5)
        return [Face((int(x), int(y), int(x + w), int(y + h)), None) for x, y, w, h in boxes]

    def landmarks_in_box(self, rgb: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
        """dlib's 5 points for a face whose box is known (no detection): used to check crops."""
        import dlib  # why: optional (the `real` extra); the OpenCV fallback works without it

        shape = self._predictor(rgb, dlib.rectangle(*[int(round(v)) for v in box]))
        return np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float64)

    def transform(self, face: Face) -> np.ndarray:
        """2 x 3 matrix from photo pixels to crop pixels."""
        if face.points is not None:
            return similarity_transform(face.points, template(self.size, self.margin))
        left, top, right, bottom = face.box  # fallback: the Haar box is about the template's unit box
        side = (right - left) * (1 + 2 * self.margin)
        scale = self.size / side
        cx, cy = (left + right) / 2, (top + bottom) / 2 + 0.05 * (bottom - top)
        return np.array([[scale, 0, self.size / 2 - scale * cx], [0, scale, self.size / 2 - scale * cy]])

    def align(self, rgb: np.ndarray) -> Aligned:
        faces = self.detect(rgb)
        if not faces:
            return Aligned(None, "no face", None, 0)
        face = max(faces, key=lambda f: f.area)  # the largest face wins
        width = face.box[2] - face.box[0]
        if width < self.min_face:
            return Aligned(None, f"face too small ({width} px < {self.min_face})", face, len(faces))
        m = self.transform(face)
        crop = cv2.warpAffine(rgb, m, (self.size, self.size), flags=cv2.INTER_AREA
                              if m[0, 0] < 1 else cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        return Aligned(crop, None, face, len(faces))

    def template_box(self) -> tuple[float, float, float, float]:
        """Where a detector box sits in a crop: the unit face box under this margin."""
        lo = self.margin / (1 + 2 * self.margin) * self.size
        hi = (1 + self.margin) / (1 + 2 * self.margin) * self.size
        return lo, lo, hi, hi


def to_dlib_chips(crops: np.ndarray, margin: float = DLIB_PADDING) -> np.ndarray:
    """(N, S, S, 3) uint8 crops made with `margin` -> (N, 150, 150, 3) dlib face chips."""
    crops = np.asarray(crops, dtype=np.uint8)
    size = crops.shape[1]
    # crop pixel -> unit face box -> chip pixel (both are axis-aligned scalings)
    scale = (1 + 2 * margin) / size * 150 / (1 + 2 * DLIB_PADDING)
    shift = (DLIB_PADDING - margin) * 150 / (1 + 2 * DLIB_PADDING)
    m = np.array([[scale, 0, shift + 0.5 * scale - 0.5], [0, scale, shift + 0.5 * scale - 0.5]])
    return np.stack([cv2.warpAffine(c, m, (150, 150), flags=cv2.INTER_LINEAR,
                                    borderMode=cv2.BORDER_REFLECT) for c in crops])
