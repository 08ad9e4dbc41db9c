import { describe, expect, it } from 'vitest';
import { singular } from '../src/lib/plural';

describe("a list's noun", () => {
  it('is singular for one of the nouns the lists use', () => {
    expect(
      ['VMs', 'accounts', 'cards', 'entries', 'hardware profiles', 'nodes', 'users'].map(singular),
    ).toEqual(['VM', 'account', 'card', 'entry', 'hardware profile', 'node', 'user']);
  });
});
