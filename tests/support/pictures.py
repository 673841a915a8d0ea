"""The static picture of a figure page as the reader sees it, for browser tests that measure it.

A figure laid out per width class (Circos) shows an `<img>` of the class's SVG (a `<picture>`
picks it with a media query), whose texts the page's DOM cannot reach: `INLINE_PICTURE` fetches
the SVG the browser chose and puts it inline at the size it is shown, so its texts are measured
where the reader sees them. Pages with inline pictures are left as they are.
"""

INLINE_PICTURE = """async () => {
  const img = document.querySelector("#figure-static img");
  if (!img) return null;  // (a picture inlined in the page)
  await img.decode();
  const rect = img.getBoundingClientRect();
  const text = await (await fetch(img.currentSrc)).text();
  const holder = document.createElement("div");
  holder.style.width = rect.width + "px";
  holder.style.height = rect.height + "px";
  holder.innerHTML = text;
  img.closest("picture").replaceWith(holder);
  return img.currentSrc;
}"""
