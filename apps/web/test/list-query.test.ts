import { describe, expect, it } from 'vitest';
import { pageQuery } from '../src/lib/list-query';

describe('pageQuery', () => {
  it('asks for the count (total) on the first page only', () => {
    expect(pageQuery({ query: { status: 'running' }, limit: 200 })).toEqual({
      status: 'running',
      limit: 200,
      count: true,
    });
    expect(pageQuery({ query: { status: 'running' }, limit: 500, cursor: 'abc' })).toEqual({
      status: 'running',
      limit: 500,
      cursor: 'abc',
    });
  });
});
