// The profile page loads the user.
export async function loadProfile(userId) {
  const res = await fetch(`/api/users/${userId}`);
  if (!res.ok) throw new Error(`profile ${userId}: ${res.status}`);
  return res.json();
}
