#!/usr/bin/env node
// validate_schemas.js - validates mamori's SBOMs against the official
// schemas: CycloneDX 1.5 (bom-1.5.schema.json with the spdx and jsf schemas
// it references, as shipped by the npm package @cyclonedx/cyclonedx-library)
// and SPDX 2.3 (the specification's JSON schema).  Both are draft-07.
//
// Usage:
//   NODE_PATH=<tools>/node_modules node validate_schemas.js \
//       [--cyclonedx FILE]... [--spdx FILE]... [--spdx-schema SCHEMA]
// The tools folder comes from setup-node-tools.sh; it may also be given as
// MAMORI_NODE_TOOLS.  The SPDX schema defaults to
// $MAMORI_SHARED/schemas/spdx-2.3.schema.json.  Exit status: 0 all valid,
// 1 some document is invalid, 2 usage or setup problem.
'use strict';

const fs = require('fs');
const path = require('path');
const Module = require('module');

function die(msg) {
    process.stderr.write(`validate_schemas: ${msg}\n`);
    process.exit(2);
}

// Find the node tools outside the repository: a require() rooted in the
// tools folder resolves its node_modules; NODE_PATH still works as well.
const tools = process.env.MAMORI_NODE_TOOLS || '/var/cache/mamori-node-tools';
const toolsRequire = Module.createRequire(path.join(path.resolve(tools), 'noop.js'));
function load(name) {
    try {
        return toolsRequire(name);
    } catch (e) {
        return require(name);
    }
}
function resolveTool(name) {
    try {
        return toolsRequire.resolve(name);
    } catch (e) {
        return require.resolve(name);
    }
}

let Ajv, addFormats;
try {
    Ajv = load('ajv');
    addFormats = load('ajv-formats');
} catch (e) {
    die(`ajv/ajv-formats not found (run setup-node-tools.sh): ${e.message}`);
}

const args = process.argv.slice(2);
const cdx = [], spdx = [];
let spdxSchemaPath = null;
for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const v = args[i + 1];
    if (a === '--cyclonedx' && v) { cdx.push(v); i++; }
    else if (a === '--spdx' && v) { spdx.push(v); i++; }
    else if (a === '--spdx-schema' && v) { spdxSchemaPath = v; i++; }
    else die(`unknown or incomplete argument "${a}"`);
}
if (!cdx.length && !spdx.length)
    die('nothing to validate: give --cyclonedx FILE and/or --spdx FILE');

function readJson(file) {
    try {
        return JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch (e) {
        die(`${file}: ${e.message}`);
    }
}

function newAjv() {
    // strict: false because the CycloneDX schema uses annotations ajv does
    // not know; allErrors to report every problem at once.
    const ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(ajv);
    // Formats the CycloneDX schema names that ajv-formats lacks: checked
    // loosely (an IRI is a URI that may hold non-ASCII characters).
    ajv.addFormat('iri-reference', (s) => typeof s === 'string' && !/[\s<>"{}|\\^`]/.test(s));
    ajv.addFormat('idn-email', (s) => /^[^\s@]+@[^\s@]+$/.test(s));
    return ajv;
}

let failed = 0;

function report(kind, file, validate, doc) {
    if (validate(doc)) {
        process.stdout.write(`ok ${kind} ${file}\n`);
        return;
    }
    failed++;
    process.stdout.write(`INVALID ${kind} ${file}\n`);
    for (const e of validate.errors.slice(0, 50))
        process.stdout.write(`  ${e.instancePath || '/'} ${e.message}` +
            `${e.params ? ' ' + JSON.stringify(e.params) : ''}\n`);
}

if (cdx.length) {
    let dir;
    try {
        dir = path.join(path.dirname(resolveTool(
            '@cyclonedx/cyclonedx-library/package.json')), 'res', 'schema');
    } catch (e) {
        die(`@cyclonedx/cyclonedx-library not found: ${e.message}`);
    }
    // Newer releases name the files "*.SNAPSHOT.schema.json" while the
    // schemas' $id and $ref use the plain names: map both to the $ids.
    const pick = (base) => {
        for (const n of [`${base}.schema.json`, `${base}.SNAPSHOT.schema.json`]) {
            const p = path.join(dir, n);
            if (fs.existsSync(p)) return p;
        }
        die(`no ${base} schema in ${dir}`);
    };
    const loadSchema = (base) => JSON.parse(
        fs.readFileSync(pick(base), 'utf8').replace(/\.SNAPSHOT\.schema\.json/g, '.schema.json'));
    const ajv = newAjv();
    ajv.addSchema(loadSchema('spdx'));
    ajv.addSchema(loadSchema('jsf-0.82'));
    const validate = ajv.compile(loadSchema('bom-1.5'));
    for (const f of cdx) {
        const doc = readJson(f);
        if (doc.specVersion !== '1.5') {
            failed++;
            process.stdout.write(`INVALID cyclonedx ${f}: specVersion is ${JSON.stringify(doc.specVersion)}, not "1.5"\n`);
            continue;
        }
        report('cyclonedx', f, validate, doc);
    }
}

if (spdx.length) {
    if (!spdxSchemaPath) {
        const shared = process.env.MAMORI_SHARED;
        if (!shared) die('no --spdx-schema and MAMORI_SHARED is not set');
        spdxSchemaPath = path.join(shared, 'schemas', 'spdx-2.3.schema.json');
    }
    const ajv = newAjv();
    const validate = ajv.compile(readJson(spdxSchemaPath));
    for (const f of spdx) report('spdx', f, validate, readJson(f));
}

process.exit(failed ? 1 : 0);
