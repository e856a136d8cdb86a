import type { UnstatedRule } from '../core/route';

/** Rules of the campaigns routes that JSON Schema cannot state (listed in the OpenAPI document). */
export const campaignRules = {
  declaredPlaceholders: {
    rule: 'template-placeholders-declared',
    in: 'body',
    field: 'body',
    code: 'undeclared_placeholder',
    description: 'Every `{{ placeholder }}` in body must be listed in placeholders (compares two fields).',
  },
  templateChannel: {
    rule: 'campaign-template-channel',
    in: 'body',
    field: 'channel',
    code: 'channel_mismatch',
    description: "channel must be the template's channel (stored data, 422).",
  },
  campaignReferences: {
    rule: 'campaign-references-exist',
    in: 'body',
    field: 'templateId',
    code: 'not_found',
    description: 'templateId and segmentId must name an existing template and segment (422).',
  },
  campaignState: {
    rule: 'campaign-state',
    in: 'path',
    field: 'id',
    code: 'invalid_state',
    description: 'launch, pause, resume and cancel apply only in the states docs/campaigns.md lists; a cancelled or completed campaign takes none (409).',
  },
} satisfies Record<string, UnstatedRule>;
