// Progressive enhancement only: without this script every feed is listed and every link works.
"use strict";

function setUpFilter() {
  const box = document.querySelector(".filter");
  const input = document.getElementById("filter");
  const status = document.getElementById("filter-status");
  if (!box || !input || !status) return;
  const feeds = Array.from(document.querySelectorAll("li.feed"));
  const sections = Array.from(document.querySelectorAll("section.kind"));
  box.hidden = false;
  input.addEventListener("input", () => {
    const query = input.value.trim().toLowerCase();
    let shown = 0;
    for (const feed of feeds) {
      const match = !query || feed.dataset.name.includes(query) || feed.dataset.feed.includes(query);
      feed.hidden = !match;
      if (match) shown += 1;
    }
    for (const section of sections) {
      section.hidden = !section.querySelector("li.feed:not([hidden])");
    }
    status.textContent = query ? `${shown} of ${feeds.length} feeds match “${input.value.trim()}”` : "";
  });
}

function setUpCopyButtons() {
  // The Clipboard API needs a secure context (https or localhost); elsewhere the links suffice.
  if (!navigator.clipboard || !window.isSecureContext) return;
  // Each button copies the URL of the feed link just before it.
  for (const button of document.querySelectorAll("button.copy")) {
    button.hidden = false;
    button.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(button.previousElementSibling.href);
        button.textContent = "Copied";
      } catch {
        button.textContent = "Copy failed";
      }
      setTimeout(() => { button.textContent = "Copy"; }, 2000);
    });
  }
}

setUpFilter();
setUpCopyButtons();
