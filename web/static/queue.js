// The review queue with the keyboard: J/K move, Enter opens.
(function () {
  const rows = Array.from(document.querySelectorAll("#queue tbody tr"));
  let at = 0;
  function select(index) {
    if (!rows.length) return;
    at = Math.max(0, Math.min(rows.length - 1, index));
    rows.forEach((row, i) => row.classList.toggle("selected", i === at));
    rows[at].focus();
  }
  document.addEventListener("keydown", (event) => {
    if (event.target.closest("input, select, textarea") || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "j" || event.key === "J") { select(at + 1); event.preventDefault(); }
    else if (event.key === "k" || event.key === "K") { select(at - 1); event.preventDefault(); }
    else if (event.key === "Enter" && rows.length) { window.location = rows[at].dataset.href; event.preventDefault(); }
  });
  select(0);
})();
