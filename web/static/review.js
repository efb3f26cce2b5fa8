// The review page: the page image with its word boxes (coloured by confidence) and the field boxes; zoom
// with the wheel, pan by dragging; a click on a word puts it into the focused field (the first click
// replaces the value, the next ones add to it); keys: Enter accepts, J/K next/previous, R rejects.
(function () {
  const root = document.querySelector(".review");
  const form = document.getElementById("accept-form");
  const inputs = Array.from(form.querySelectorAll("input[data-field]"));
  let focused = inputs.find((input) => input.closest(".field.unsure")) || inputs[0];
  let freshFocus = true;
  const boxes = {};

  inputs.forEach((input) => {
    input.addEventListener("focus", () => {
      focused = input;
      freshFocus = true;
      highlight(input.dataset.field);
    });
    input.addEventListener("input", () => { freshFocus = false; });
  });
  form.querySelectorAll("button[data-use]").forEach((chip) => chip.addEventListener("click", () => {
    const input = form.querySelector(`input[data-field="${chip.dataset.use}"]`);
    input.value = chip.dataset.value;
    input.focus();
    freshFocus = false;
  }));

  function highlight(name) {
    Object.entries(boxes).forEach(([field, element]) => element.classList.toggle("active", field === name));
  }

  const dataNode = document.getElementById("page-data");
  const image = document.getElementById("page-image");
  if (dataNode && image) {
    const data = JSON.parse(dataNode.textContent);
    const stage = document.getElementById("stage");
    const sheet = document.getElementById("sheet");
    const overlay = document.getElementById("overlay");
    let zoom = 1, x = 0, y = 0;
    const apply = () => { sheet.style.transform = `translate(${x}px, ${y}px) scale(${zoom})`; };

    function place(element, box, ratio) {
      element.style.left = `${box[0] * ratio}px`;
      element.style.top = `${box[1] * ratio}px`;
      element.style.width = `${box[2] * ratio}px`;
      element.style.height = `${box[3] * ratio}px`;
    }

    function build() {
      const ratio = image.naturalWidth / data.width;
      overlay.replaceChildren();
      data.words.forEach(([text, conf, wx, wy, ww, wh]) => {
        const word = document.createElement("span");
        word.className = "word " + (conf >= 85 ? "good" : conf >= 60 ? "fair" : "poor");
        word.title = `${text} (${conf})`;
        word.dataset.text = text;
        place(word, [wx, wy, ww, wh], ratio);
        overlay.appendChild(word);
      });
      Object.entries(data.boxes || {}).forEach(([field, where]) => {
        const box = document.createElement("div");
        box.className = "fieldbox";
        box.dataset.field = field;
        place(box, where.box, ratio);
        overlay.appendChild(box);
        boxes[field] = box;
      });
      zoom = stage.clientWidth / image.naturalWidth;
      x = 0; y = 0;
      apply();
      if (focused) highlight(focused.dataset.field);
    }
    if (image.complete && image.naturalWidth) build(); else image.addEventListener("load", build);

    overlay.addEventListener("click", (event) => {
      const word = event.target.closest(".word");
      if (!word || !focused || moved) return;
      const text = word.dataset.text;
      focused.value = freshFocus || !focused.value.trim() ? text : `${focused.value.trim()} ${text}`;
      freshFocus = false;
    });

    stage.addEventListener("wheel", (event) => {
      event.preventDefault();
      const rect = stage.getBoundingClientRect();
      const px = event.clientX - rect.left, py = event.clientY - rect.top;
      const factor = event.deltaY < 0 ? 1.15 : 1 / 1.15;
      const next = Math.min(6, Math.max(0.2, zoom * factor));
      x = px - (px - x) * (next / zoom);
      y = py - (py - y) * (next / zoom);
      zoom = next;
      apply();
    }, { passive: false });

    let dragging = null, moved = false;
    stage.addEventListener("mousedown", (event) => {
      dragging = { sx: event.clientX, sy: event.clientY, x, y };
      moved = false;
    });
    window.addEventListener("mousemove", (event) => {
      if (!dragging) return;
      const dx = event.clientX - dragging.sx, dy = event.clientY - dragging.sy;
      if (Math.abs(dx) + Math.abs(dy) > 4) { moved = true; stage.classList.add("dragging"); }
      x = dragging.x + dx; y = dragging.y + dy;
      apply();
    });
    window.addEventListener("mouseup", () => {
      dragging = null;
      stage.classList.remove("dragging");
      setTimeout(() => { moved = false; }, 0);
    });
  }

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const typing = event.target.closest("input, select, textarea");
    if (event.key === "Enter" && (!typing || form.contains(event.target))) {
      if (event.target.closest("#reject-form")) return;  // Enter in the reason field rejects
      event.preventDefault();
      form.requestSubmit();
      return;
    }
    if (typing) {
      if (event.key === "Escape") event.target.blur();
      return;
    }
    const go = (id) => { if (id) window.location = `/review/${id}`; };
    if (event.key === "j" || event.key === "J") { event.preventDefault(); go(root.dataset.next); }
    else if (event.key === "k" || event.key === "K") { event.preventDefault(); go(root.dataset.prev); }
    else if (event.key === "r" || event.key === "R") {
      event.preventDefault();
      document.getElementById("reject-reason").focus();
    }
  });
  // No field has the keyboard at first (J/K/R/Enter work at once); the first unsure field receives clicked words.
  function markTarget() {
    inputs.forEach((input) => input.classList.toggle("target", input === focused));
  }
  inputs.forEach((input) => input.addEventListener("focus", markTarget));
  markTarget();
})();
