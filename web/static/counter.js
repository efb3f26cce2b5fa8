// The counter: drop scans on the box (or choose them); the cover-sheet link follows the dossier code.
(function () {
  const drop = document.getElementById("drop");
  const input = document.getElementById("files");
  const chosen = document.getElementById("chosen");
  const dossier = document.getElementById("dossier");
  const typeHint = document.getElementById("type_hint");
  const cover = document.getElementById("cover");
  function showChosen() {
    chosen.textContent = Array.from(input.files).map((f) => f.name).join(", ");
  }
  ["dragenter", "dragover"].forEach((name) => drop.addEventListener(name, (event) => {
    event.preventDefault();
    drop.classList.add("over");
  }));
  ["dragleave", "drop"].forEach((name) => drop.addEventListener(name, () => drop.classList.remove("over")));
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    input.files = event.dataTransfer.files;
    showChosen();
  });
  input.addEventListener("change", showChosen);
  function coverLink() {
    const code = dossier.value.trim();
    cover.hidden = !code;
    const query = new URLSearchParams({ dossier: code });
    if (typeHint.value) query.set("type", typeHint.value);
    cover.href = "/counter/cover-sheet?" + query.toString();
  }
  dossier.addEventListener("input", coverLink);
  typeHint.addEventListener("change", coverLink);
  coverLink();
})();
