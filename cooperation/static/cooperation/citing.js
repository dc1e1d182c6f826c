"use strict";
// Cite by selecting (cooperation/citing.py): take the passage selected in the source's
// text into the next empty quote of the form, so that it is never retyped, or into a new
// organisation, person or area that it names (entering.py); under a quote refused as not
// in its source, put the source's nearest passage in the box; and, on a record's form
// opened from a source, offer the records the source is cited for as one-click choices.
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

    // A new row of the formset `prefix`, from its template, added to `holder`.
    const cloneRow = (prefix, template, holder) => {
        const total = document.getElementById(`id_${prefix}-TOTAL_FORMS`);
        const index = Number(total.value);
        const wrap = document.createElement("div");
        wrap.innerHTML = template.innerHTML.replace(/__prefix__/g, String(index));
        const row = wrap.firstElementChild;
        holder.appendChild(row);
        total.value = String(index + 1);
        row.dispatchEvent(new CustomEvent("formset:added", {bubbles: true, detail: {formsetName: prefix}}));
        return row;
    };

    const addRow = () => {
        const inlineAdd = rows().querySelector(".add-row a");
        if (inlineAdd) {
            // Django's inline script adds the row (and starts its autocompletes).
            inlineAdd.click();
            const added = rows().querySelectorAll(".dynamic-citations");
            return added[added.length - 1];
        }
        return cloneRow("form", document.getElementById("citing-empty-row"), rows());
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

    // A passage naming an organisation: "Name (ACRONYM)" or "ACRONYM, the Name" give both.
    const named = (kind, passage) => {
        const bracketed = passage.match(/^(.+?)\s*\(([^()\s]{1,30})\)$/u);
        if (kind === "organisation" && bracketed) return {name: bracketed[1], acronym: bracketed[2]};
        const apposed = passage.match(/^([^\s,]{1,30}), the (.+)$/u);
        if (kind === "organisation" && apposed) return {name: apposed[2], acronym: apposed[1]};
        // A longer passage is the context that names it: the name is typed.
        const words = passage.split(/\s+/u).length;
        return {name: words <= (kind === "organisation" ? 8 : 4) ? passage : ""};
    };

    // The one organisation (entered on this page, or already cited) that `passage` names.
    const escaped = (text) => text.replace(/[.*+?^${}()|[\]\\]/gu, "\\$&");
    const organisationIn = (passage) => {
        const names = [];
        for (const row of document.querySelectorAll("#new-organisation-rows .new-row")) {
            const name = row.querySelector("[name$='-name']").value.trim();
            const acronym = row.querySelector("[name$='-acronym']").value.trim();
            for (const label of [name, acronym]) if (label) names.push([label, acronym || name]);
        }
        for (const option of document.querySelectorAll("#citing-organisations option")) {
            names.push([option.value, option.value], [option.textContent, option.value]);
        }
        const found = new Set(names.filter(([label]) => label && new RegExp(
            `(^|[^\\p{L}\\p{N}])${escaped(label)}($|[^\\p{L}\\p{N}])`, "u"
        ).test(passage)).map(([, value]) => value));
        return found.size === 1 ? [...found][0] : "";
    };

    const enter = (button) => {
        const passage = selectedPassage();
        if (!passage) {
            say("Select a passage of the text first.");
            return;
        }
        const {kind, prefix} = button.dataset;
        const holder = document.getElementById(`new-${kind}-rows`);
        const row = Array.from(holder.querySelectorAll(".new-row")).find(
            (each) => !each.querySelector("[name$='-quote']").value && !each.querySelector("[name$='-name']").value
        ) || cloneRow(prefix, document.getElementById(`new-${kind}-empty`), holder);
        const field = (name) => row.querySelector(`[name$='-${name}']`);
        const {name, acronym} = named(kind, passage);
        field("quote").value = passage;
        field("name").value = name;
        if (acronym) field("acronym").value = acronym;
        if (kind === "person" && !field("organisation").value) {
            field("organisation").value = organisationIn(passage);
        }
        const next = Array.from(row.querySelectorAll("input:not([type=hidden]), select")).find(
            (each) => !each.value
        );
        (next || field("name")).focus();
        say(`New ${kind}, citing the passage: ${name ? "check its name" : "type its name"}, then save.`);
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
        for (const button of document.querySelectorAll(".citing-new")) {
            button.addEventListener("click", () => enter(button));
        }
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

    const records = document.getElementById("citing-records");
    if (records) offerRecords(JSON.parse(records.textContent));

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

// On a record's form opened from a source: beside each autocomplete of organisations,
// people or areas, a button for each that the source is cited for, which chooses it; in an
// inline (signatories, participants), it adds a row with it.
const offerRecords = (byKind) => {
    const choose = (select, record) => {
        let option = Array.from(select.options).find((each) => each.value === String(record.id));
        if (!option) {
            option = new Option(record.label, record.id);
            select.append(option);
        }
        option.selected = true;
        window.django.jQuery(select).trigger("change");
    };
    const buttons = (kind, label, pick) => {
        const bar = document.createElement("div");
        bar.className = "citing-chips";
        bar.setAttribute("role", "group");
        bar.setAttribute("aria-label", label);
        for (const record of byKind[kind]) {
            const chip = document.createElement("button");
            chip.type = "button";
            chip.className = "button citing-chip";
            chip.textContent = record.short || record.label;
            chip.title = record.label;
            chip.dataset.record = String(record.id);
            chip.addEventListener("click", () => pick(record));
            bar.append(chip);
        }
        return bar;
    };
    for (const select of document.querySelectorAll("select[data-kind]")) {
        const kind = select.dataset.kind;
        if (!(byKind[kind] || []).length || select.closest(".inline-group")) continue;
        const place = select.closest(".related-widget-wrapper") || select;
        place.after(buttons(kind, `Choose from the source: ${kind}`, (record) => choose(select, record)));
    }
    for (const group of document.querySelectorAll(".inline-group")) {
        const template = group.querySelector(".empty-form select[data-kind]");
        if (!template || !(byKind[template.dataset.kind] || []).length) continue;
        const column = template.name.split("__prefix__")[1];
        const add = buttons(template.dataset.kind, "Add a row for one from the source", (record) => {
            group.querySelector(".add-row a").click();
            const added = group.querySelectorAll(`select[name$='${column}']:not([name*='__prefix__'])`);
            choose(added[added.length - 1], record);
        });
        add.classList.add("citing-chips-rows");
        (group.querySelector("fieldset > h2") || group.firstElementChild).after(add);
    }
};
