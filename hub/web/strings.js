// Every user-visible string of the dashboard: zh-CN (the default) and English.
export const STRINGS = {
  zh: {
    room: "指挥中心", patrolPage: "巡逻员", zones: "区域编辑", stats: "统计", board: "案件看板",
    feed: "实时告警", map: "网格地图", detail: "案件详情", login: "登录", logout: "退出",
    name: "用户名", password: "密码", wrongLogin: "用户名或密码错误", connected: "已连接",
    lost: "连接中断，正在重连…", mute: "静音", unmute: "开启声音", lang: "English",
    reported: "上报", accepted: "受理", dispatched: "派遣", arrived: "到场", resolved: "处置",
    escalated: "提级", closed: "结案", evaluated: "评估", rejected: "误报",
    accept: "受理", reject: "误报", dispatch: "派遣", redispatch: "重新派遣", close: "结案",
    evaluate: "评估", escalate: "提级", comment: "备注", handoff: "移交部门", arrive: "到场",
    resolve: "处置完毕", decline: "拒绝", report: "上报", alert: "重复告警",
    sla_escalate: "超时提级", patrol_accept: "巡逻员接单",
    note: "备注", score: "评分", department: "部门", audit: "处置记录", noCase: "请选择案件", legendAvailable: "空闲巡逻", legendBusy: "出勤中",
    legendCase: "未结案件", legendCamera: "摄像机",
    overdue: "已超时", grid: "网格", kind: "场景", camera: "摄像机", grid_kind: "网格/场景",
    cases: "案件数", false_alarms: "误报", closed_n: "结案", accept_s_avg: "平均受理(秒)",
    arrive_s_avg: "平均到场(秒)", accept_sla_compliance: "受理达标率", false_alarm_rate: "误报率",
    period: "时段", day1: "近 1 天", day7: "近 7 天", day30: "近 30 天", day90: "近 90 天",
    myDispatch: "我的派单", take: "接单", noDispatch: "暂无派单", recent: "最近案件", route: "导航",
    sent: "已下发", pending: "待下发", location: "位置", open: "未结", patrols: "巡逻员",
    onDuty: "在岗", busy: "忙碌", offDuty: "离岗", stale: "信号陈旧", done: "已提交",
    pickCamera: "选择摄像机", polygon: "多边形", line: "线", finish: "完成图形", save: "保存",
    saved: "已保存", del: "删除", label: "名称", noSnapshot: "暂无画面", drawHint:
      "在画面上单击添加顶点，完成后点“完成图形”", failed: "操作失败",
  },
  en: {
    room: "Monitoring room", patrolPage: "Patrol", zones: "Zone editor", stats: "Statistics",
    board: "Case board", feed: "Live alerts", map: "Grid map", detail: "Case detail",
    login: "Log in", logout: "Log out", name: "Name", password: "Password",
    wrongLogin: "Wrong name or password", connected: "Connected",
    lost: "Connection lost, reconnecting…", mute: "Mute", unmute: "Sound on", lang: "中文",
    reported: "Reported", accepted: "Accepted", dispatched: "Dispatched", arrived: "Arrived",
    resolved: "Resolved", escalated: "Escalated", closed: "Closed", evaluated: "Evaluated",
    rejected: "False alarm", accept: "Accept", reject: "False alarm", dispatch: "Dispatch",
    redispatch: "Re-dispatch", close: "Close", evaluate: "Evaluate", escalate: "Escalate",
    comment: "Comment", handoff: "Hand off", arrive: "Arrived", resolve: "Resolved",
    decline: "Decline", report: "Reported", alert: "Repeat alert", sla_escalate: "SLA escalation",
    patrol_accept: "Patrol accepted", note: "Note", score: "Score", department: "Department",
    audit: "Audit trail", noCase: "Select a case", legendAvailable: "Patrol free",
    legendBusy: "On a dispatch", legendCase: "Open case", legendCamera: "Camera", overdue: "Overdue", grid: "Grid",
    kind: "Scenario", camera: "Camera", grid_kind: "Grid/scenario", cases: "Cases",
    false_alarms: "False alarms", closed_n: "Closed", accept_s_avg: "Avg accept (s)",
    arrive_s_avg: "Avg arrival (s)", accept_sla_compliance: "Accept SLA met",
    false_alarm_rate: "False-alarm rate", period: "Period", day1: "Last day", day7: "Last 7 days", day30: "Last 30 days",
    day90: "Last 90 days", myDispatch: "My dispatch", take: "Accept", noDispatch: "No dispatch",
    recent: "Recent cases", route: "Route", sent: "Sent", pending: "Pending",
    location: "Location", open: "Open", patrols: "Patrols", onDuty: "On duty", busy: "Busy",
    offDuty: "Off duty", stale: "Stale fix", done: "Sent", pickCamera: "Camera",
    polygon: "Polygon", line: "Line", finish: "Finish shape", save: "Save", saved: "Saved",
    del: "Delete", label: "Label", noSnapshot: "No picture yet",
    drawHint: "Click on the picture to add points, then “Finish shape”", failed: "Failed",
  },
};

// The case panel's evidence.
Object.assign(STRINGS.zh, {
  evidence: "告警与证据", snapshot: "快照", clip: "视频", enlarge: "点击放大",
  clickToClose: "点击任意处关闭", evidenceMissing: "证据缺失", comma: "，", lastAt: "最近",
  evidenceGone: "文件不在本机（按保留期限删除、未能写入，或由另一实例保存）",
  noEvidence: "此告警无证据文件", noAlerts: "无告警（人工上报）", photos: "现场照片",
});
Object.assign(STRINGS.en, {
  evidence: "Alerts and evidence", snapshot: "Snapshot", clip: "Clip", enlarge: "Click to enlarge",
  clickToClose: "Click anywhere to close", evidenceMissing: "Evidence missing", comma: ", ",
  lastAt: "last", evidenceGone: "Not on this hub (removed by retention, never written, or kept "
    + "by another instance)", noEvidence: "No evidence file for this alert",
  noAlerts: "No alerts (reported by hand)", photos: "Photos from the scene",
});

// Alert review and false-alarm statistics.
Object.assign(STRINGS.zh, {
  review: "待审核", reviewHint: "新告警，最新在前。选中一项后按 A 受理、R 误报、D 派遣。",
  reviewEmpty: "暂无待审核告警", acceptCase: "确认受理", rejectReason: "误报原因",
  suggested: "建议派遣", metres: "米", noPatrol: "附近无空闲巡逻员",
  reason_light: "光影变化", reason_animal: "动物或飞鸟", reason_weather: "雨雪风",
  reason_shake: "摄像机抖动", reason_authorised: "允许的活动", reason_duplicate: "重复案件",
  reason_other: "其他", reason_unknown: "未注明", falseAlarmsBySource: "误报统计（按摄像机与检测器）",
});
Object.assign(STRINGS.en, {
  review: "Review", reviewHint: "New alerts, newest first. On a selected item press A to accept, "
    + "R to reject as a false alarm, D to dispatch.", reviewEmpty: "Nothing to review",
  acceptCase: "Accept", rejectReason: "False-alarm reason", suggested: "Suggested",
  metres: "m", noPatrol: "No free patrol nearby", reason_light: "Light or shadow",
  reason_animal: "Animal or bird", reason_weather: "Rain, snow or wind",
  reason_shake: "Camera shake", reason_authorised: "Authorised activity",
  reason_duplicate: "Duplicate case", reason_other: "Other", reason_unknown: "Not given",
  falseAlarmsBySource: "False alarms by camera and detector",
});

// The history view (case search).
Object.assign(STRINGS.zh, {
  history: "案件查询", stateLabel: "状态", any: "全部", since: "开始", until: "结束", text: "关键词",
  textHint: "标题、描述或编号", search: "查询", exportCsv: "导出 CSV", more: "加载更多",
  found: "共", casesUnit: "件", id: "编号", title: "标题", opened: "上报时间",
});
Object.assign(STRINGS.en, {
  history: "Case search", stateLabel: "State", any: "Any", since: "From", until: "Until",
  text: "Text", textHint: "Title, description or number", search: "Search",
  exportCsv: "Export CSV", more: "Load more", found: "Found", casesUnit: "cases", id: "No.",
  title: "Title", opened: "Reported at",
});

// The patrol page: navigation and photos.
Object.assign(STRINGS.zh, {
  addPhotos: "现场照片", amap: "高德地图", baidu: "百度地图", geoApp: "其他地图",
});
Object.assign(STRINGS.en, {
  addPhotos: "Photos", amap: "Amap", baidu: "Baidu Maps", geoApp: "Other map app",
});
Object.assign(STRINGS.zh, { takePhoto: "拍照/选择照片", noPhotos: "未选择照片" });
Object.assign(STRINGS.en, { takePhoto: "Take or choose photos", noPhotos: "No photo chosen" });

// The camera wall.
Object.assign(STRINGS.zh, {
  wall: "监控墙", wallFilter: "摄像机名称或编号", recentAlerts: "最近告警", closeView: "关闭",
  cam_online: "在线", cam_offline: "离线", cam_starting: "启动中", cam_stopped: "已停止",
  cam_remote: "由其他实例运行", cam_unassigned: "未分配", cam_disabled: "已停用", cam_error: "故障",
});
Object.assign(STRINGS.en, {
  wall: "Camera wall", wallFilter: "Camera name or id", recentAlerts: "Recent alerts",
  closeView: "Close", cam_online: "Online", cam_offline: "Offline", cam_starting: "Starting",
  cam_stopped: "Stopped", cam_remote: "On another instance", cam_unassigned: "Unassigned",
  cam_disabled: "Disabled", cam_error: "Error",
});
Object.assign(STRINGS.zh, { clearedAlert: "告警解除，已恢复正常" });
Object.assign(STRINGS.en, { clearedAlert: "Alert cleared, back to normal" });
