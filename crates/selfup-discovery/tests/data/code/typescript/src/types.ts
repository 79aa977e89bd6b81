// Shared types (no functions).

export interface Address { street: string; city: string; country: string }
export interface Item { price: number; active: boolean }
export interface Line { price: number; quantity: number }
export interface Order { lines: Line[]; address: string; id: number }
export interface Invoice { items: { cost: number; count: number }[]; id: number }
export interface Row { region: string; warehouse: string; amount: number; units: number }
export interface Record { name: string; deleted: boolean; month: number; value: number; stock: number; sku: string }
export interface Summary { totals: { [k: string]: number }; best: string | null; count: number }
