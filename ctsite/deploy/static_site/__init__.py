"""The static site: the whole website as files any static host serves (`ctsite export-site`).

`export_site.export_site` is the workflow. The pages come from the real website (a
`SiteSource`, which the CLI builds from the Flask app: `ctsite.web.snapshot`), with every URL
made relative (`rewrite`); the store's files the figures read go to `data/` in a form the browser reads
directly (`data`); `destination` guards the folder written and `archive` zips the result for a
repository. The figures themselves are computed in the browser by the engine bundle
(web-assets/engine/), which reads `data/`.
"""
