"""
What a person does in the browser during a walk, counted the same way for every walk.

- A page load is a document that a page of the browser (a popup included) finished loading:
  following a link, and the answer to a form submission.
- A submission is a request that writes: a form posted by a button, or a script's POST.
- A field action is one thing done to the page by hand: a click on a link or a control,
  a pick from a list (a select, or an autocomplete's result), a selection of text, or typing
  (or pasting) into one field, however long the text (clicking into the field is part of
  it). The click that sends a form counts as its submission, not as a field action.
"""

import json

WRITES = {"POST", "PUT", "PATCH", "DELETE"}


class CountedPage:
    """A Playwright page whose every use by the walk is counted (see the module docstring)."""

    def __init__(self, page):
        self.page = page
        self.page_loads = 0
        self.submissions = 0
        self.field_actions = 0
        #: What was counted, in order, to read back what a count is made of.
        self.log = []
        page.context.on("page", self._watch)
        page.context.on("request", self._request)
        self._watch(page)

    def _watch(self, page):
        page.on("load", self._load)

    def _load(self, page):
        self.page_loads += 1
        self.log.append(f"page load: {page.url}")

    def _request(self, request):
        if request.method in WRITES:
            self.submissions += 1
            self.log.append(f"submission: {request.method} {request.url}")

    def _act(self, action, locator):
        self.field_actions += 1
        # A locator prints as <Locator frame=... selector='...'>: keep the selector.
        selector = str(locator).partition(" selector=")[2].removesuffix(">")
        self.log.append(f"field action: {action} {selector}")

    def counts(self):
        return {
            "page_loads": self.page_loads,
            "submissions": self.submissions,
            "field_actions": self.field_actions,
        }

    def write(self, path, **about):
        """Write the counts, and whatever else describes the walk, to a JSON file."""
        path.parent.mkdir(parents=True, exist_ok=True)
        report = {**about, **self.counts(), "log": self.log}
        path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")

    def click(self, locator):
        self._act("click", locator)
        locator.click()

    def follow(self, link):
        """Click a link and wait for the page it opens."""
        with self.page.expect_navigation():
            self.click(link)

    def type(self, field, text):
        """Type, or paste, `text` into one field: one action whatever its length."""
        self._act("type", field)
        field.fill(text)

    def choose(self, select, label):
        """Pick one option of a plain select by its label."""
        self._act("choose", select)
        select.select_option(label=label)

    def pick(self, select, search, label):
        """
        Pick in the admin's autocomplete (select2) for the select element `select`: open it,
        type `search`, and click the result whose text holds `label`: three actions.
        """
        opener = select.locator("xpath=following-sibling::span[contains(@class, 'select2')][1]")
        self.click(opener.locator(".select2-selection"))
        self.type(self.page.locator(".select2-container--open .select2-search__field"), search)
        result = self.page.locator(".select2-container--open .select2-results__option")
        self.click(result.filter(has_text=label))

    def select_text(self, element, passage):
        """Select the first occurrence of `passage` in the text of `element`, as by mouse."""
        self._act("select text", element)
        found = element.evaluate(
            """(element, passage) => {
                const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
                for (let node = walker.nextNode(); node; node = walker.nextNode()) {
                    const start = node.data.indexOf(passage);
                    if (start >= 0) {
                        const range = document.createRange();
                        range.setStart(node, start);
                        range.setEnd(node, start + passage.length);
                        const selection = window.getSelection();
                        selection.removeAllRanges();
                        selection.addRange(range);
                        element.dispatchEvent(new MouseEvent("mouseup", {bubbles: true}));
                        return true;
                    }
                }
                return false;
            }""",
            passage,
        )
        assert found, f"{passage!r} is not in one text of the element"

    def submit(self, button):
        """Send a form with its button and wait for the page that answers."""
        with self.page.expect_navigation():
            button.click()
