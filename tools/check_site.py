"""Check a rendered docs site: local links and anchors resolve, no page shows a machine path or a warning.

Usage: python tools/check_site.py [_docs] [--log FILE ...]

Prints one line per problem (`page: what`) and exits 1 if there is any. Checked on every HTML page
outside `site_libs/`:
- each local `href`/`src` names an existing file, and its `#anchor` an element `id` of the target page;
- the page has no machine path (`/work/`, `/tmp/`, `../shared`), no object address (`0x7f...`) and no
  warning line (`UserWarning: ...`, torch's `W1125 12:00:00 ...` log lines), no option typeset with an
  en dash (`–quick`: smart typography turned a `--quick` written outside code into one);
- each `--log` (Quarto's stderr, nbdev-docs' output) has no `WARN`/`ERROR` line and no Python warning
  (nbdev's "Found cells containing imports and other code" means the doc build ran a training cell).
Every page must be linked from the home page (the sidebar). Besides the HTML pages, only notebook pages may exist: a stray `.md` page or a Markdown alternate
(`*.html.md`, `figure-commonmark/`) is a problem too.
"""
import argparse, re, sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit, unquote

FORBIDDEN = [(re.compile(r'/work/'), 'machine path /work/'), (re.compile(r'/tmp/'), 'machine path /tmp/'),
             (re.compile(r'\.\./shared'), 'machine path ../shared'), (re.compile(r'0x7f[0-9a-f]{4,}'), 'object address 0x7f...')]
WARNING_LINE = re.compile(r'\b[A-Z]\w*Warning: |^\s*[WE]\d{4} \d\d:\d\d:\d\d|warnings\.warn\(')
QUARTO_PROBLEM = re.compile(r'^\s*\[?(WARN(ING)?|ERROR)\b')
EN_DASH_OPTION = re.compile(r'(?<![\w\u2013-])\u2013[a-z][\w-]*')  # `--quick` typeset as `–quick`: a command outside code
ANSI = re.compile(r'\x1b\[[0-9;]*m')

class Page(HTMLParser):
    "Collects the ids, the local links and the visible text lines of one HTML page"
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids, self.links, self.text, self._skip = set(), [], [], 0
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get('id'): self.ids.add(a['id'])
        if tag == 'a' and a.get('name'): self.ids.add(a['name'])
        for k in ('href', 'src'):
            if a.get(k) and not (tag == 'link' and 'alternate' in (a.get('rel') or '') and k == 'href' and '://' in a[k]):
                self.links.append(a[k])
        if tag in ('script', 'style'): self._skip += 1
    def handle_endtag(self, tag):
        if tag in ('script', 'style') and self._skip: self._skip -= 1
    def handle_data(self, data):
        if not self._skip: self.text.append(data)

def parse(path):
    p = Page(); p.feed(path.read_text(errors='replace')); return p

def is_local(url):
    s = urlsplit(url)
    return not (s.scheme or s.netloc or url.startswith(('//', 'mailto:', 'javascript:', 'data:')))

def site_url(site):
    "The published address of the site (nbdev writes doc links as absolute URLs under it), from `nbs/nbdev.yml`"
    yml = Path(site).resolve().parent/'nbs'/'nbdev.yml'
    m = re.search(r'^\s*site-url:\s*"?([^"\s]+)', yml.read_text(), re.M) if yml.exists() else None
    return m.group(1).rstrip('/') + '/' if m else None

def check_site(site, url=None):
    "Problems found in the rendered site folder `site` (published at `url`), as `page: what` lines"
    site, problems, pages = Path(site), [], {}
    url = url or site_url(site)
    htmls = sorted(p for p in site.rglob('*.html') if 'site_libs' not in p.relative_to(site).parts)
    for f in htmls: pages[f.resolve()] = parse(f)
    for f in htmls:
        rel, page, raw = f.relative_to(site), pages[f.resolve()], f.read_text(errors='replace')
        for link in page.links:
            if url and link.startswith(url): s, base = urlsplit(link[len(url):]), site
            elif is_local(link): s, base = urlsplit(link), f.parent
            else: continue
            target = (base/unquote(s.path)).resolve() if s.path else f.resolve()
            if s.path.endswith('/') or (s.path and target.is_dir()): target = target/'index.html'
            if not target.exists(): problems.append(f'{rel}: broken link {link}'); continue
            if s.fragment and target.suffix == '.html':
                tp = pages.get(target) or parse(target)
                if unquote(s.fragment) not in tp.ids: problems.append(f'{rel}: missing anchor {link}')
        for rx, what in FORBIDDEN:
            for m in rx.finditer(raw):
                line = raw[raw.rfind('\n', 0, m.start())+1: raw.find('\n', m.end())].strip()
                problems.append(f'{rel}: {what}: {line[:160]}')
        for line in ''.join(page.text).splitlines():
            if WARNING_LINE.search(line): problems.append(f'{rel}: warning line: {line.strip()[:160]}')
            for m in EN_DASH_OPTION.finditer(line): problems.append(f'{rel}: en dash for -- (put the command in `code`): {line.strip()[:160]}')
    for f in sorted(site.rglob('*')):
        rel = f.relative_to(site)
        if 'site_libs' in rel.parts: continue
        if f.name.endswith('.html.md') or f.name == 'figure-commonmark': problems.append(f'{rel}: Markdown alternate format output')
    for f in sorted(site.rglob('*.html')):
        if f.parent.name == 'images' or 'images' in f.relative_to(site).parts: problems.append(f'{f.relative_to(site)}: stray page from a non-notebook file')
    home = pages.get((site/'index.html').resolve())
    if home:   # every page is reachable from the sidebar (listed in nbs/_quarto.yml)
        linked = {(site/urlsplit(l).path).resolve() for l in home.links if is_local(l) and urlsplit(l).path}
        for f in htmls:
            if f.parent == site and f.name not in ('index.html', '404.html') and f.resolve() not in linked:
                problems.append(f'{f.relative_to(site)}: not in the sidebar (add its notebook to nbs/_quarto.yml)')
    if not htmls: problems.append(f'{site}: no HTML pages')
    return problems

def check_log(log):
    "The warning and error lines in the build log `log` (Quarto's `WARN`/`ERROR`, Python's `...Warning:`)"
    lines = ANSI.sub('', Path(log).read_text(errors='replace')).splitlines()
    return [f'{Path(log).name}: {l.strip()[:200]}' for l in lines if QUARTO_PROBLEM.search(l) or WARNING_LINE.search(l)]

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('site', nargs='?', default='_docs')
    ap.add_argument('--log', action='append', default=[], help="a build log to check (Quarto's stderr, nbdev-docs' output); repeatable")
    ap.add_argument('--site-url', help="the site's published address (default: site-url in nbs/nbdev.yml)")
    a = ap.parse_args(argv)
    problems = check_site(a.site, a.site_url) + sum((check_log(l) for l in a.log), [])
    for p in problems: print(p)
    n = len(list(Path(a.site).rglob('*.html')))
    print(f'check_site: {len(problems)} problem(s) in {a.site} ({n} HTML files)', file=sys.stderr)
    return 1 if problems else 0

if __name__ == '__main__': sys.exit(main())
