// What the server pushes (protocol.md §6 and §9), applied to the store. Delivery is acknowledged here
// (message_ack), reading is not: the chat view marks read what a person has on screen.

export function handlePushes(connection, store, session, { onNotice, onKicked }) {
  connection.onPush((action, data) => {
    switch (action) {
      case 'message': {
        store.putMessage(data, { countUnread: true });
        session.rememberLastId(data.message_id);
        if (data.receiver_id === store.me.user_id) session.ack([data.message_id]);
        break;
      }
      case 'offline_messages': {
        const mine = [];
        for (const m of data.messages || []) {
          store.putMessage(m, { countUnread: true });
          session.rememberLastId(m.message_id);
          if (m.receiver_id === store.me.user_id) mine.push(m.message_id);
        }
        if (mine.length) session.ack(mine);
        break;
      }
      case 'message_status':
        store.setStatus(data);
        break;
      case 'message_recalled':
        store.recall(findDirectKey(store, data.message_id), data.message_id);
        break;
      case 'friend_request':
        store.rememberName(data.from.user_id, data.from.username);
        store.incoming = [...store.incoming.filter((r) => r.friend_request_id !== data.friend_request_id),
          { friend_request_id: data.friend_request_id, user_id: data.from.user_id, username: data.from.username, message: data.message, created_at: data.created_at }];
        store.changed();
        onNotice(`${data.from.username} wants to be your friend.`);
        break;
      case 'friend_request_result':
        onNotice(data.accepted ? `${data.username} is now your friend.` : `${data.username} declined your friend request.`);
        session.refreshLists().catch(() => {});
        break;
      case 'friend_deleted':
        store.friends.delete(data.user_id);
        store.changed();
        session.refreshLists().catch(() => {});
        break;
      case 'presence':
        store.setPresence(data.user_id, data.status, data.last_seen);
        break;
      case 'group_message':
        onGroupEntry(store, session, data);
        break;
      case 'group_event':
        onGroupEvent(store, session, data, onNotice);
        break;
      case 'group_message_recalled':
        store.recall('g:' + data.group_id, data.seq);
        break;
      case 'group_read': {
        const group = store.groups.get(data.group_id);
        if (group) group.read_seq = data.read_seq;
        if (!group || data.read_seq >= (group.max_seq || 0)) store.markConversationRead('g:' + data.group_id);
        break;
      }
      case 'kicked':
        onKicked(data.reason);
        break;
      case 'server_shutdown':
        onNotice('The server is restarting; reconnecting shortly.');
        break;
      case 'error':
        onNotice(null, { code: data.code, message: data.message });
        break;
      default:
        break;
    }
  });
}

function findDirectKey(store, messageId) {
  for (const [key, chat] of store.chats) if (key.startsWith('u:') && chat.items.has(messageId)) return key;
  for (const conv of store.conversations.values()) {
    if (conv.kind === 'direct' && conv.last && conv.last.message_id === messageId) return conv.key;
  }
  return 'u:0';
}

function onGroupEntry(store, session, entry) {
  const key = 'g:' + entry.group_id;
  const chat = store.chats.get(key);
  let highest = 0;
  if (chat) for (const seq of chat.items.keys()) if (seq > highest) highest = seq;
  store.putGroupEntry(entry, { countUnread: true });
  // §9: a client that sees a seq gap in pushes syncs the gap.
  if (chat && chat.loaded && highest && entry.seq > highest + 1) session.syncGroup(entry.group_id).catch(() => {});
}

function onGroupEvent(store, session, data, onNotice) {
  const me = store.me.user_id;
  const aboutMe = (data.user_ids || []).includes(me);
  if (data.event === 'dissolved' || ((data.event === 'member_removed' || data.event === 'member_left') && aboutMe)) {
    const group = store.groups.get(data.group_id);
    store.groups.delete(data.group_id);
    store.conversations.delete('g:' + data.group_id);
    store.chats.delete('g:' + data.group_id);
    store.members.delete(data.group_id);
    store.changed();
    // A chat or member list of the group that is gone has nothing left to show.
    if (location.hash.startsWith(`#/chat/g/${data.group_id}`) || location.hash.startsWith(`#/group/${data.group_id}/`)) location.hash = '#/groups';
    if (group && data.actor_id !== me) {
      onNotice(data.event === 'dissolved' ? `The group ${group.name} was dissolved.` : `You were removed from ${group.name}.`);
    }
    return;
  }
  if (data.seq) {
    store.putGroupEntry({ group_id: data.group_id, seq: data.seq, type: 'system', event: data.event, actor_id: data.actor_id,
      sender_id: data.actor_id, user_ids: data.user_ids, name: data.name, role: data.role, timestamp: Date.now(), message_id: 0 });
  }
  store.members.delete(data.group_id);
  // Names, roles and counts changed, or a group appeared (I was added): the list is small, read it again.
  session.conn.request('get_groups').then((d) => {
    store.setGroups(d.groups || []);
    const conv = store.conversation('g:' + data.group_id);
    const group = store.groups.get(data.group_id);
    if (group) conv.title = group.name;
    store.changed();
  }).catch(() => {});
}
