#!/usr/bin/env node
// Validates SARIF files against the SARIF 2.1.0 JSON schema.
//
//   npm ci --prefix testdata/sarif-validate
//   node testdata/sarif-validate/validate.js out.sarif...
//
// The schema is the final 2.1.0 one (rtm.5) as shipped in the npm package
// @microsoft/jest-sarif; it is draft-04, which ajv 6 validates once the
// draft-04 meta-schema is registered. Exit status: 0 valid, 1 invalid, 2 usage.
'use strict';

const fs = require('fs');
const Ajv = require('ajv');

const schema = require('@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json');

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: validate.js FILE.sarif...');
  process.exit(2);
}

const ajv = new Ajv({ schemaId: 'auto', allErrors: true, format: 'full' });
ajv.addMetaSchema(require('ajv/lib/refs/json-schema-draft-04.json'));
const validate = ajv.compile(schema);

let failed = false;
for (const file of files) {
  const log = JSON.parse(fs.readFileSync(file, 'utf8'));
  if (validate(log)) {
    console.log(`${file}: valid SARIF 2.1.0`);
    continue;
  }
  failed = true;
  for (const e of validate.errors) {
    console.error(`${file}: ${e.dataPath || '/'}: ${e.message} ${JSON.stringify(e.params)}`);
  }
}
process.exit(failed ? 1 : 0);
