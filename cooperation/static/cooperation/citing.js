"use strict";
// Cite by selecting (cooperation/citing.py): take the passage selected in the source's
// text into the next empty quote of the form, so that it is never retyped; and, under a
// quote refused as not in its source, put the source's nearest passage in the box.
// The admin loads forms' scripts in the page's head: start once the page is read.
document.addEventListener("DOMContentLoaded", () => {
    const text = document.getElementById("source-text");
    const status = document.getElementById("citing-status");
    let lastRange = null;

    // The offset in the source's text of a boundary point of a range inside `text`.
    const offsetOf = (container, offset) => {
        const range = document.createRange();
        range.setStart(text, 0);
        range.setEnd(container, offset);
        return range.toString().length;
    };

    // A DOM range over the characters start..end of the source's text.
    const rangeOf = (start, end) => {
        const range = document.createRange();
        const walker = document.createTreeWalker(text, NodeFilter.SHOW_TEXT);
        let seen = 0;
        let started = false;
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            const length = node.data.length;
            if (!started && start < seen + length) {
                range.setStart(node, start - seen);
                started = true;
            }
            if (started && end <= seen + length) {
                range.setEnd(node, end - seen);
                break;
            }
            seen += length;
        }
        return range;
    };

    const selectedPassage = () => {
        const range = lastRange;
        if (!range || range.collapsed) return null;
        const start = offsetOf(range.startContainer, range.startOffset);
        const end = offsetOf(range.endContainer, range.endOffset);
        return text.textContent.slice(start, end);
    };

    const say = (message) => {
        if (status) status.textContent = message;
    };

    // The new citations: the page's own form to cite, or a record's citation rows.
    const rows = () => document.getElementById("citing-rows") || document.getElementById("citations-group");

    const addRow = () => {
        const inlineAdd = rows().querySelector(".add-row a");
        if (inlineAdd) {
            // Django's inline script adds the row (and starts its autocompletes).
            inlineAdd.click();
            const added = rows().querySelectorAll(".dynamic-citations");
            return added[added.length - 1];
        }
        const total = document.getElementById("id_form-TOTAL_FORMS");
        const index = Number(total.value);
        const template = document.getElementById("citing-empty-row");
        const holder = document.createElement("div");
        holder.innerHTML = template.innerHTML.replace(/__prefix__/g, String(index));
        const row = holder.firstElementChild;
        rows().appendChild(row);
        total.value = String(index + 1);
        row.dispatchEvent(new CustomEvent("formset:added", {bubbles: true, detail: {formsetName: "form"}}));
        return row;
    };

    const emptyQuote = () => Array.from(rows().querySelectorAll("textarea[name$='-quote']")).find(
        (box) => !box.value && !box.name.includes("__prefix__")
    );

    const take = () => {
        const passage = selectedPassage();
        if (!passage) {
            say("Select a passage of the text first.");
            return;
        }
        const box = emptyQuote() || (addRow(), emptyQuote());
        box.value = passage;
        const select = box.closest(".citing-row") && box.closest(".citing-row").querySelector("select.admin-autocomplete");
        if (select) {
            // On the source's page the record comes next: its search opens, focused.
            say("Quote taken: now choose the record it supports.");
            window.django.jQuery(select).select2("open");
        } else {
            say("Quote taken into a new citation below.");
        }
    };

    const find = (wanted) => {
        const full = text.textContent;
        const [head, tail] = wanted.split(/\u2026|\.\.\./, 2).map((part) => part.trim());
        const start = full.indexOf(head);
        if (!head || start < 0) return null;
        if (tail === undefined || !tail) return [start, start + head.length];
        const end = full.indexOf(tail, start + head.length);
        return end < 0 ? null : [start, end + tail.length];
    };

    if (text && rows()) {
        document.querySelector(".citing-take").hidden = false;
        document.addEventListener("selectionchange", () => {
            const selection = window.getSelection();
            if (selection.rangeCount && !selection.isCollapsed) {
                const range = selection.getRangeAt(0);
                if (text.contains(range.commonAncestorContainer)) lastRange = range.cloneRange();
            }
        });
        document.getElementById("citing-take").addEventListener("click", take);
        document.addEventListener("keydown", (event) => {
            if (event.altKey && event.shiftKey && event.code === "KeyC") {
                event.preventDefault();
                take();
            }
        });
        document.getElementById("citing-find").addEventListener("keydown", (event) => {
            if (event.key !== "Enter") return;
            event.preventDefault();
            const found = find(event.target.value);
            if (!found) {
                say("Not in the text, letter for letter.");
                return;
            }
            const range = rangeOf(found[0], found[1]);
            const selection = window.getSelection();
            selection.removeAllRanges();
            selection.addRange(range);
            lastRange = range.cloneRange();
            range.startContainer.parentElement.scrollIntoView({block: "center"});
            say(`Selected “${text.textContent.slice(found[0], found[1])}”: cite it with Alt+Shift+C or the button.`);
        });
    }

    for (const button of document.querySelectorAll(".use-passage")) {
        button.hidden = false;
    }
    document.addEventListener("click", (event) => {
        const button = event.target.closest(".use-passage");
        if (!button) return;
        const box = document.getElementById(button.dataset.for);
        box.value = button.dataset.passage;
        box.focus();
    });
});
